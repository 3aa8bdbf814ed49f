/**
 * Steps on images in every mode a generation knows (issue 25), over real HTTP: placeholder and
 * frozen builds stand in for a chain at its final size, a dev server shows that placeholder at once
 * and generates the chain behind it, the shared cache carries every step to a machine that cannot
 * reach Venice, the spend cap counts steps, a flagged edit is charged nothing and cached nothing, a
 * corrupt answer to a step is retried, and multi_edit sends every photo.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VIOLATION_TRIGGER, type VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, ImagePromptError, silentLogger, type Logger } from 'imageprompt';
import { viteBuildExports } from './helpers/vite-bundle.js';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { freePort, runNode, commandOf } from './helpers/processes.js';
import { withEnv } from './helpers/environment.js';
import { startS3, type RunningStore } from './helpers/remote-servers.js';

const KEY = secretKey();
const BUCKET = 'steps';
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let s3: RunningStore;
let deadVenice: string;
const roots: string[] = [];
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

interface Shown {
  src: string;
  width: number;
  height: number;
  format: string;
  key: string;
  placeholder: boolean;
  steps: { key: string | null; route: string; width: number; height: number; status: string }[];
}

async function photo(tint: string): Promise<Buffer> {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: tint } }).jpeg().toBuffer();
}

async function site(): Promise<string> {
  const root = await copyFixture('steps-site');
  roots.push(root);
  await mkdir(join(root, 'src', 'photos'), { recursive: true });
  await writeFile(join(root, 'src', 'photos', 'team.jpg'), await photo('#3060a0'));
  // prompts of their own, so that no other test's entry answers
  const tag = randomBytes(4).toString('hex');
  const mug = JSON.parse(await readFile(join(root, 'src', 'mug.imageprompt.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(root, 'src', 'mug.imageprompt.json'), JSON.stringify({ ...mug, prompt: `a ceramic mug ${tag}` }));
  return root;
}

beforeAll(async () => {
  sim = await startSim(KEY);
  s3 = await startS3(BUCKET);
  deadVenice = `http://127.0.0.1:${await freePort()}/api/v1`;
});
afterAll(async () => {
  await sim.close();
  await s3.close();
  for (const root of roots) await removeFixture(root);
});
beforeEach(() => {
  logs = [];
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0, resetLimits: true });
});

async function viteBuild(root: string, options: Record<string, unknown>): Promise<{ mug: Shown; team: Shown }> {
  return viteBuildExports<{ mug: Shown; team: Shown }>(root, imageprompt({ logger, retry: { baseDelayMs: 20, maxBackoffMs: 100 }, ...options }));
}

const engineFor = (root: string, options: Record<string, unknown> = {}) => new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger, ...options });

describe('placeholder and frozen modes', () => {
  it('placeholder mode stands in at the final step\'s size, keys what it can, and calls nothing', async () => {
    const root = await site();
    const { mug, team } = await viteBuild(root, { mode: 'placeholder', baseURL: sim.url });
    expect(mug).toMatchObject({ width: 1024, height: 1024, format: 'png', placeholder: true });
    expect(mug.steps.map((s) => [s.route, s.status, s.key === null])).toEqual([
      ['image/generate', 'placeholder', false],
      ['image/background-remove', 'placeholder', true],
      ['image/upscale', 'placeholder', true],
    ]);
    expect(team).toMatchObject({ placeholder: true, format: 'png' });
    expect(sim.imageRequests()).toHaveLength(0);
  });

  it('frozen mode fails naming each chain not in the cache; once filled it builds with Venice unreachable', async () => {
    const root = await site();
    const failed = await viteBuild(root, { mode: 'frozen', baseURL: deadVenice }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).toMatch(/src\/mug\.imageprompt\.json/);
    expect(failed?.message).toMatch(/src\/team\.imageprompt\.json/);
    const engine = engineFor(root);
    const filled = await engine.load(join(root, 'src', 'mug.imageprompt.json'));
    await engine.load(join(root, 'src', 'team.imageprompt.json'));
    await engine.drain();
    const { mug } = await viteBuild(root, { mode: 'frozen', baseURL: deadVenice });
    expect(mug.key).toBe(filled.key);
    expect(mug.steps.every((s) => s.status === 'cached')).toBe(true);
  });
});

describe('a dev server', () => {
  it('shows the final size\'s placeholder at once and generates the chain behind it', async () => {
    const root = await site();
    const engine = engineFor(root, { context: 'dev' });
    sim.script({ hold: true });
    const { result, generated } = await engine.loadWithoutWaiting(join(root, 'src', 'mug.imageprompt.json'));
    // answered while Venice holds the generation: nothing was answered yet
    expect(result).toMatchObject({ status: 'placeholder' });
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, format: 'png' });
    expect(sim.imageRequests()).toHaveLength(0);
    sim.script({ release: true });
    const landed = await generated!;
    expect(landed.status).toBe('generated');
    expect(landed.steps!.map((s) => s.route)).toEqual(['image/generate', 'image/background-remove', 'image/upscale']);
    expect(landed.images[0]).toMatchObject({ width: 1024, height: 1024 });
    // the next load is a hit, served at once
    const again = await engine.loadWithoutWaiting(join(root, 'src', 'mug.imageprompt.json'));
    expect(again.generated).toBeUndefined();
    expect(again.result.key).toBe(landed.key);
  });
});

describe('the shared cache', () => {
  it('carries every step: a machine that cannot reach Venice builds the chain, and pull fetches all of it', async () => {
    const remote = `s3://${BUCKET}/chain/${randomBytes(4).toString('hex')}`;
    const writer = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_S3: s3.url };
    const first = await site();
    const paid = await withEnv(writer, () => viteBuild(first, { apiKey: KEY, baseURL: sim.url, remote }));
    const calls = sim.imageRequests().length;
    expect(calls).toBe(4);

    const second = await site();
    // the same prompt files as the first machine (a clone of the same commit)
    for (const name of ['mug.imageprompt.json']) await copyFile(join(first, 'src', name), join(second, 'src', name));
    const reader = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL_S3: s3.url };
    const restored = await withEnv(reader, () => viteBuild(second, { baseURL: deadVenice, remote }));
    expect(restored.mug.key).toBe(paid.mug.key);
    expect(restored.team.key).toBe(paid.team.key);
    expect(await readFile(join(second, 'dist', restored.mug.src))).toEqual(await readFile(join(first, 'dist', paid.mug.src)));
    expect(sim.imageRequests()).toHaveLength(calls);

    const third = await site();
    await copyFile(join(first, 'src', 'mug.imageprompt.json'), join(third, 'src', 'mug.imageprompt.json'));
    const readerEnv = { IMAGEPROMPT_REMOTE: remote, AWS_ENDPOINT_URL_S3: s3.url, VENICE_BASE_URL: deadVenice };
    // check keys every step from the manifests of the shared cache, downloading no image
    const checked = await runNode([bin, 'check', '--json'], { cwd: third, env: readerEnv });
    expect(checked.code, checked.output).toBe(0);
    expect(JSON.parse(checked.output)).toMatchObject({ ok: true, onlyShared: ['src/mug.imageprompt.json', 'src/team.imageprompt.json'] });
    expect(await listFiles(join(third, '.imageprompt', 'blobs'))).toEqual([]);
    const pulled = await runNode([bin, 'pull'], { cwd: third, env: readerEnv });
    expect(pulled.code, pulled.output).toBe(0);
    expect(pulled.output).toMatch(/2 pulled from/);
    const entries = (await listFiles(join(third, '.imageprompt', 'entries'))).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(4);
  });
});

describe('paying for steps', () => {
  it('the spend cap counts steps: the chain stops before the step that would pass it', async () => {
    const root = await site();
    const engine = engineFor(root, { maxSpendUsd: 0.035 });
    const error = await engine.load(join(root, 'src', 'mug.imageprompt.json')).catch((e: ImagePromptError) => e);
    expect(error).toBeInstanceOf(ImagePromptError);
    expect((error as ImagePromptError).code).toBe('SPEND_CAP');
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/image/generate']);
    expect(engine.spentUsd).toBe(0.01);
  });

  it('an edit Venice flags is charged nothing, cached nothing, and not retried', async () => {
    const root = await site();
    await writeFile(join(root, 'src', 'team.imageprompt.json'), JSON.stringify({ api: 'edit', image: './photos/team.jpg', prompt: `make it ${VIOLATION_TRIGGER}` }));
    const before = sim.behaviour.balanceUsd;
    const engine = engineFor(root);
    const error = (await engine.load(join(root, 'src', 'team.imageprompt.json')).catch((e: ImagePromptError) => e)) as ImagePromptError;
    expect(error.code).toBe('CONTENT_VIOLATION');
    expect(error.message).toMatch(/src\/team\.imageprompt\.json: .*422/);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(sim.behaviour.balanceUsd).toBe(before);
    expect(await listFiles(join(root, '.imageprompt', 'entries'))).toEqual([]);
  });

  it('a step\'s answer cut short is retried (a fault a retry can mend), and the step is paid once whole', async () => {
    const root = await site();
    const engine = engineFor(root, { retry: { baseDelayMs: 10, maxBackoffMs: 20 } });
    await writeFile(join(root, 'src', 'one.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a ceramic mug alone', width: 512, height: 512 }));
    await engine.load(join(root, 'src', 'one.imageprompt.json'));
    await writeFile(join(root, 'src', 'one.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a ceramic mug alone', width: 512, height: 512, then: [{ upscale: {} }] }));
    sim.script({ clearRequests: true, corruptNext: { count: 1, kind: 'truncated-base64' } });
    const result = await engine.load(join(root, 'src', 'one.imageprompt.json'));
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/image/upscale', '/api/v1/image/upscale']);
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, format: 'png' });
  });
});

describe('a step\'s manifest is checked like any other', () => {
  it('one whose body was changed does not hash to its key: a miss with a warning, and only that step is made again', async () => {
    const root = await site();
    const first = await engineFor(root).load(join(root, 'src', 'mug.imageprompt.json'));
    const upscaleKey = first.steps![2]!.key!;
    const path = join(root, '.imageprompt', 'entries', `${upscaleKey}.json`);
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { route: string; sent: Record<string, unknown> };
    expect(manifest.route).toBe('image/upscale');
    // the input is named by the digest of the previous step's image, never by a path
    const removal = JSON.parse(await readFile(join(root, '.imageprompt', 'entries', `${first.steps![1]!.key}.json`), 'utf8')) as { outputs: { digest: string }[] };
    expect(manifest.sent).toEqual({ scale: 2, creativity: 0.01, image: `sha256:${removal.outputs[0]!.digest}` });
    await writeFile(path, JSON.stringify({ ...manifest, sent: { ...manifest.sent, creativity: 0.02 } }));
    sim.script({ clearRequests: true });
    const warnings: string[] = [];
    const again = await engineFor(root, { logger: { info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} } }).load(join(root, 'src', 'mug.imageprompt.json'));
    expect(warnings.join('\n')).toMatch(/does not belong to its key/);
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/image/upscale']);
    expect(again.key).toBe(first.key);
  });
});

describe('a chain after the OpenAI-compatible route', () => {
  it('sends the generation to /images/generations and the steps to Venice\'s routes for them', async () => {
    const root = await site();
    const file = join(root, 'src', 'openai.imageprompt.json');
    await writeFile(file, JSON.stringify({ api: 'openai', model: 'z-image-turbo', prompt: 'a harbour at dawn, for a chain', size: '512x512', then: [{ upscale: { scale: 2 } }] }));
    const result = await engineFor(root).load(file);
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/images/generations', '/api/v1/image/upscale']);
    expect(result.steps!.map((s) => [s.route, s.width])).toEqual([
      ['images/generations', 512],
      ['image/upscale', 1024],
    ]);
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, format: 'png' });
  });
});

describe('multi_edit', () => {
  it('sends every photo in order under modelId (an "api" file, and a step after the chain\'s image), and a change to any of them is another key', async () => {
    const root = await site();
    await writeFile(join(root, 'src', 'photos', 'lamp.png'), await sharp({ create: { width: 400, height: 400, channels: 4, background: '#e0c040ff' } }).png().toBuffer());
    const file = join(root, 'src', 'room.imageprompt.json');
    await writeFile(file, JSON.stringify({ api: 'multi_edit', images: ['./photos/team.jpg', './photos/lamp.png'], prompt: 'put the lamp beside the team', model: 'flux-2-max-edit' }));
    const engine = engineFor(root);
    const first = await engine.load(file);
    const sent = sim.imageRequests()[0]!;
    expect(sent.path).toBe('/api/v1/image/multi-edit');
    const body = sent.body as { modelId: string; images: string[] };
    expect(body.modelId).toBe('flux-2-max-edit');
    expect(body.images.map((i) => Buffer.from(i, 'base64'))).toEqual([await readFile(join(root, 'src', 'photos', 'team.jpg')), await readFile(join(root, 'src', 'photos', 'lamp.png'))]);
    await writeFile(join(root, 'src', 'photos', 'lamp.png'), await sharp({ create: { width: 400, height: 400, channels: 4, background: '#40c0e0ff' } }).png().toBuffer());
    const second = await engineFor(root).load(file);
    expect(second.key).not.toBe(first.key);
    expect(sim.imageRequests()).toHaveLength(2);
    // in a chain: the chain's image first, then the committed ones; a changed photo is another key
    sim.script({ clearRequests: true });
    const chain = join(root, 'src', 'desk.imageprompt.json');
    await writeFile(chain, JSON.stringify({ model: 'z-image-turbo', prompt: 'a desk, for a lamp', width: 512, height: 512, then: [{ multi_edit: { images: ['./photos/lamp.png'], prompt: 'put the lamp on the desk', model: 'flux-2-max-edit' } }] }));
    const desk = await engineFor(root).load(chain);
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/image/generate', '/api/v1/image/multi-edit']);
    // the generated image as cached (its blob is named by the digest the simulator served)
    const generatedBytes = await readFile(join(root, '.imageprompt', 'blobs', `${sim.imageRequests()[0]!.servedImages[0]}.webp`));
    const chainBody = sim.imageRequests()[1]!.body as { modelId: string; images: string[] };
    expect(chainBody.images.map((i) => Buffer.from(i, 'base64'))).toEqual([generatedBytes, await readFile(join(root, 'src', 'photos', 'lamp.png'))]);
    await writeFile(join(root, 'src', 'photos', 'lamp.png'), await sharp({ create: { width: 400, height: 400, channels: 4, background: '#c040e0ff' } }).png().toBuffer());
    sim.script({ clearRequests: true });
    const again = await engineFor(root).load(chain);
    expect(sim.imageRequests().map((r) => r.path)).toEqual(['/api/v1/image/multi-edit']);
    expect(again.key).not.toBe(desk.key);
    expect(again.inputs).toEqual([join(root, 'src', 'photos', 'lamp.png')]);
    sim.script({ clearRequests: true });
    // more photos than the model combines: one error naming the field, before any call
    await writeFile(file, JSON.stringify({ api: 'multi_edit', images: ['./photos/team.jpg', './photos/lamp.png'], prompt: 'x', model: 'luma-uni-1-edit' }));
    const error = (await engineFor(root).load(file).catch((e: ImagePromptError) => e)) as ImagePromptError;
    expect(error.message).toMatch(/field "images": lists 2 images; luma-uni-1-edit combines at most 1/);
    expect(sim.imageRequests()).toHaveLength(0);
  });
});
