/**
 * Steps on images over real HTTP (issue 25): a chain after a generation (`then`: background removal,
 * upscale) and an edit of a committed photo, built with Vite against the local Venice-compatible
 * server. Each step is a request of its own, keyed by its fields and its input's bytes: a chain
 * costs one call per step and nothing on rebuild, changing a step pays for it and what follows only,
 * an edited photo changes the edit's key, a mistake is one error before any call, and `plan` prices
 * exactly what the simulator then charges.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, sniffImage, silentLogger, type Logger } from 'imageprompt';
import { viteBuildExports } from './helpers/vite-bundle.js';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let root: string;
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

interface Step {
  key: string | null;
  route: string;
  label: string;
  width: number;
  height: number;
  format: string;
  status: string;
}
interface Shown {
  src: string;
  width: number;
  height: number;
  format: string;
  alt: string;
  key: string;
  steps: Step[];
}

/** A photo of the team: a gradient with a block, so that every pixel is not the corner's colour. */
async function photo(width: number, height: number, tint: string): Promise<Buffer> {
  const block = await sharp({ create: { width: Math.round(width / 3), height: Math.round(height / 3), channels: 3, background: '#d0a040' } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: tint } })
    .composite([{ input: block, left: Math.round(width / 3), top: Math.round(height / 3) }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('steps-site');
  logs = [];
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  await mkdir(join(root, 'src', 'photos'), { recursive: true });
  await writeFile(join(root, 'src', 'photos', 'team.jpg'), await photo(640, 480, '#3060a0'));
  return () => removeFixture(root);
});

async function viteBuild(): Promise<{ mug: Shown; team: Shown }> {
  return viteBuildExports<{ mug: Shown; team: Shown }>(root, imageprompt({ apiKey: KEY, baseURL: sim.url, logger }));
}

const routes = () => sim.imageRequests().map((r) => r.path.replace(/^\/api\/v1\//, ''));
const emitted = async (src: string) => readFile(join(root, 'dist', src));

describe('a chain after a generation', () => {
  it('costs one call per step, imports the last step, lists every step, and a rebuild calls nothing', async () => {
    const { mug } = await viteBuild();
    expect(routes().filter((r) => r !== 'image/edit')).toEqual(['image/generate', 'image/background-remove', 'image/upscale']);
    // the import is the final step's image: upscaled 2× from 512×512, PNG with alpha
    expect(mug).toMatchObject({ width: 1024, height: 1024, format: 'png', alt: 'A ceramic mug' });
    const bytes = await emitted(mug.src);
    expect(sniffImage(bytes)).toEqual({ format: 'png', width: 1024, height: 1024 });
    expect((await sharp(bytes).metadata()).hasAlpha).toBe(true);
    expect(mug.steps.map((s) => [s.route, s.width, s.height, s.format])).toEqual([
      ['image/generate', 512, 512, 'webp'],
      ['image/background-remove', 512, 512, 'png'],
      ['image/upscale', 1024, 1024, 'png'],
    ]);
    expect(new Set(mug.steps.map((s) => s.key)).size).toBe(3);
    expect(mug.key).toBe(mug.steps[2]!.key);
    // the step after the generation was sent the generated image's bytes, keyed by their digest
    const removal = sim.imageRequests().find((r) => r.path.endsWith('/image/background-remove'))!;
    const generated = sim.imageRequests().find((r) => r.path.endsWith('/image/generate'))!;
    expect(Object.keys(removal.body as object)).toEqual(['image']);
    const sent = Buffer.from((removal.body as { image: string }).image, 'base64');
    expect(createHash('sha256').update(sent).digest('hex')).toBe(generated.servedImages[0]);
    const upscale = sim.imageRequests().find((r) => r.path.endsWith('/image/upscale'))!;
    expect(upscale.body).toMatchObject({ scale: 2, creativity: 0.01 });

    const calls = sim.imageRequests().length;
    const again = await viteBuild();
    expect(sim.imageRequests()).toHaveLength(calls);
    expect(again.mug.steps.map((s) => s.key)).toEqual(mug.steps.map((s) => s.key));
    expect(again.mug.steps.every((s) => s.status === 'cached')).toBe(true);
  });

  it('changing a step pays for that step and the ones after it only; going back pays nothing', async () => {
    const first = await viteBuild();
    const file = join(root, 'src', 'mug.imageprompt.json');
    const original = await readFile(file, 'utf8');
    const prompt = JSON.parse(original) as { then: unknown[] };

    // the last step: only the upscale is paid again
    sim.script({ clearRequests: true });
    await writeFile(file, JSON.stringify({ ...prompt, then: [{ remove_background: true }, { upscale: { scale: 4 } }] }));
    const scaled = await viteBuild();
    expect(routes()).toEqual(['image/upscale']);
    expect(scaled.mug).toMatchObject({ width: 2048, height: 2048 });
    expect(scaled.mug.steps.slice(0, 2).map((s) => s.key)).toEqual(first.mug.steps.slice(0, 2).map((s) => s.key));

    // the first step: that step and the upscale after it, never the generation
    sim.script({ clearRequests: true });
    await writeFile(file, JSON.stringify({ ...prompt, then: [{ edit: { prompt: 'paint the mug blue' } }, { upscale: { scale: 2 } }] }));
    const edited = await viteBuild();
    expect(routes()).toEqual(['image/edit', 'image/upscale']);
    expect(edited.mug.steps[0]!.key).toBe(first.mug.steps[0]!.key);

    // reordering is another chain: upscale first, then the background (the upscale of the generated image is new)
    sim.script({ clearRequests: true });
    await writeFile(file, JSON.stringify({ ...prompt, then: [{ upscale: { scale: 2 } }, { remove_background: true }] }));
    const reordered = await viteBuild();
    expect(routes()).toEqual(['image/upscale', 'image/background-remove']);
    expect(reordered.mug.key).not.toBe(first.mug.key);

    // the original chain again: every step is cached
    sim.script({ clearRequests: true });
    await writeFile(file, original);
    const back = await viteBuild();
    expect(routes()).toEqual([]);
    expect(back.mug.key).toBe(first.mug.key);
  });
});

describe('an edit of a committed photo', () => {
  it('sends the photo once, and editing the photo changes the key (restoring it pays nothing)', async () => {
    const { team } = await viteBuild();
    const edits = sim.imageRequests().filter((r) => r.path.endsWith('/image/edit'));
    expect(edits).toHaveLength(1);
    expect(edits[0]!.body).toMatchObject({ model: 'firered-image-edit', prompt: 'turn the sky into a warm sunset', aspect_ratio: 'auto', resolution: '1K', output_format: 'png', safe_mode: true });
    const photoBytes = await readFile(join(root, 'src', 'photos', 'team.jpg'));
    expect(Buffer.from((edits[0]!.body as { image: string }).image, 'base64').equals(photoBytes)).toBe(true);
    expect(team.steps).toHaveLength(1);
    expect(team.steps[0]).toMatchObject({ route: 'image/edit', label: 'edit (firered-image-edit)' });
    expect(sniffImage(await emitted(team.src))).toMatchObject({ format: 'png', width: team.width, height: team.height });

    // a rebuild: the photo is unchanged, nothing is sent
    sim.script({ clearRequests: true });
    await viteBuild();
    expect(routes()).toEqual([]);

    // the photo edited in place (same name, same size): a new key, one new edit
    await writeFile(join(root, 'src', 'photos', 'team.jpg'), await photo(640, 480, '#a03060'));
    const changed = await viteBuild();
    expect(routes()).toEqual(['image/edit']);
    expect(changed.team.key).not.toBe(team.key);

    // the photo as it was: the first edit is still cached
    sim.script({ clearRequests: true });
    await writeFile(join(root, 'src', 'photos', 'team.jpg'), photoBytes);
    const restored = await viteBuild();
    expect(routes()).toEqual([]);
    expect(restored.team.key).toBe(team.key);
  });
});

describe('mistakes in a step', () => {
  const cases: { name: string; file: object; field: string; says: RegExp }[] = [
    { name: 'a format background removal cannot give', file: { model: 'z-image-turbo', prompt: 'a mug', then: [{ remove_background: { format: 'webp' } }] }, field: 'then.0.remove_background.format', says: /PNG/ },
    { name: 'an upscale of too small an image', file: { model: 'z-image-turbo', prompt: 'a mug', width: 200, height: 200, then: [{ upscale: { scale: 2 } }] }, field: 'then.0.upscale', says: /65536 px/ },
    { name: 'an edit aspect ratio the model does not offer', file: { model: 'z-image-turbo', prompt: 'a mug', then: [{ edit: { prompt: 'blue', model: 'gpt-image-1-5-edit', aspect_ratio: '16:9' } }] }, field: 'then.0.edit.aspect_ratio', says: /not offered by gpt-image-1-5-edit/ },
    { name: 'an edit prompt over the model\'s limit', file: { api: 'edit', image: './photos/team.jpg', prompt: 'x'.repeat(1501) }, field: 'prompt', says: /firered-image-edit accepts at most 1500/ },
    { name: 'a photo outside the project', file: { api: 'upscale', image: '../../../../etc/hostname' }, field: 'image', says: /outside the project|cannot be read/ },
    { name: 'a photo that is a folder', file: { api: 'upscale', image: './photos' }, field: 'image', says: /which is not a file/ },
    { name: 'a photo that is no image', file: { api: 'remove_background', image: '../index.html' }, field: 'image', says: /is not a PNG, JPEG or WebP image/ },
    { name: 'a photo that is not there', file: { api: 'edit', image: './photos/gone.jpg', prompt: 'x' }, field: 'image', says: /"\.\/photos\/gone\.jpg", which cannot be read \(ENOENT\)/ },
    { name: 'an unknown step field', file: { model: 'z-image-turbo', prompt: 'a mug', then: [{ upscale: { scal: 2 } }] }, field: 'then.0.upscale.scal', says: /did you mean "scale"/ },
    { name: 'a chain after several variants', file: { model: 'z-image-turbo', prompt: 'a mug', variants: 2, then: [{ upscale: {} }] }, field: 'then', says: /one image/ },
  ];
  for (const { name, file, field, says } of cases) {
    it(`${name}: one error naming the field, before any call`, async () => {
      await writeFile(join(root, 'src', 'mug.imageprompt.json'), JSON.stringify(file));
      const error = await viteBuild().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toContain('src/mug.imageprompt.json');
      expect(error?.message).toContain(`field "${field}"`);
      expect(error?.message).toMatch(says);
      expect(sim.imageRequests().filter((r) => !r.path.endsWith('/image/edit'))).toEqual([]);
    });
  }

  it('says so when 4× would pass Venice\'s limit, and asks for (and keys on) 2×', async () => {
    await writeFile(join(root, 'src', 'mug.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a mug', width: 1280, height: 1280, then: [{ upscale: { scale: 4 } }] }));
    const { mug } = await viteBuild();
    expect(logs.some((l) => /4× of 1280×1280 would pass Venice's 16777216-pixel limit/.test(l))).toBe(true);
    expect(sim.imageRequests().find((r) => r.path.endsWith('/image/upscale'))!.body).toMatchObject({ scale: 2 });
    expect(mug).toMatchObject({ width: 2560, height: 2560 });
  });
});

describe('imageprompt plan', () => {
  it('prices every step that would be paid, and its total is what the simulator charges', async () => {
    const env = { VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY };
    const planned = await runNode([bin, 'plan', '--json'], { cwd: root, env });
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.output) as { misses: { file: string; step?: string; priceUsd: number }[]; totalUsd: number };
    expect(plan.misses.map((m) => [m.file, m.step, m.priceUsd])).toEqual([
      ['src/mug.imageprompt.json', 'generate (z-image-turbo)', 0.01],
      ['src/mug.imageprompt.json', 'remove background', 0.03],
      ['src/mug.imageprompt.json', 'upscale 2×', 0.02],
      ['src/team.imageprompt.json', 'edit (firered-image-edit)', 0.04],
    ]);
    const before = sim.behaviour.balanceUsd;
    const generated = await runNode([bin, 'generate'], { cwd: root, env });
    expect(generated.code).toBe(0);
    expect(Math.round((before - sim.behaviour.balanceUsd) * 1e6) / 1e6).toBe(plan.totalUsd);
    expect(plan.totalUsd).toBe(0.1);

    // once the generation is cached, the plan keys the steps after it and still prices them
    const check = await runNode([bin, 'check', '--json'], { cwd: root, env });
    expect(JSON.parse(check.output)).toMatchObject({ ok: true, cached: 2 });
    const again = JSON.parse((await runNode([bin, 'plan', '--json'], { cwd: root, env })).output) as { misses: unknown[]; totalUsd: number };
    expect(again).toMatchObject({ misses: [], totalUsd: 0 });
  });

  it('prune keeps every paid step of a chain, and removes them once the file no longer asks', async () => {
    const engine = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    await engine.load(join(root, 'src', 'mug.imageprompt.json'));
    await engine.drain();
    const env = { VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY };
    const dry = JSON.parse((await runNode([bin, 'prune', '--dry-run', '--json'], { cwd: root, env })).output) as { removed: string[] };
    expect(dry.removed.filter((f) => f.startsWith('entries/'))).toEqual([]);
    await writeFile(join(root, 'src', 'mug.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a mug', width: 512, height: 512 }));
    const after = JSON.parse((await runNode([bin, 'prune', '--dry-run', '--json'], { cwd: root, env })).output) as { removed: string[] };
    // the generation is another request now too (no alt, another prompt): all three entries go
    expect(after.removed.filter((f) => f.startsWith('entries/'))).toHaveLength(3);
  });
});
