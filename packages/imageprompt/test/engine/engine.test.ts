/** The engine end to end: prompt file → cache → Venice (the local server) → cache hit. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVeniceSim, type VeniceSim } from 'venice-sim';
import { ImagePromptEngine, ImagePromptError, silentLogger } from '../../src/index.js';

const KEY = 'engine-test-key';
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startVeniceSim({ keys: [KEY], rpm: 0 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  root = await mkdtemp(join(tmpdir(), 'imageprompt-engine-'));
  await writeFile(join(root, 'a.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a fox', width: 256, height: 256 }));
  await writeFile(join(root, 'b.imageprompt.json'), JSON.stringify({ width: 256, prompt: 'a fox', height: 256, model: 'z-image-turbo', alt: 'B' }));
  return () => rm(root, { recursive: true, force: true });
});

const engine = (options = {}) => new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger, ...options });

describe('ImagePromptEngine', () => {
  it('pays once for identical requests from two prompt files loaded together', async () => {
    sim.script({ latencyMs: 200 });
    const e = engine();
    const [a, b] = await Promise.all([e.load(join(root, 'a.imageprompt.json')), e.load(join(root, 'b.imageprompt.json'))]);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(a.images[0]!.digest).toBe(b.images[0]!.digest);
    expect([a.status, b.status]).toEqual(['generated', 'generated']);
    expect(b.alt).toBe('B');
    expect(e.takeStats()).toEqual({ cached: 0, generated: 2, placeholder: 0, missing: 0, failed: 0, restored: 0 });
  });

  it('pays once when two processes build on the same cache directory at once', async () => {
    sim.script({ latencyMs: 500 });
    const script = `
      import { ImagePromptEngine, silentLogger } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      const engine = new ImagePromptEngine({ root: ${JSON.stringify(root)}, apiKey: ${JSON.stringify(KEY)}, baseURL: ${JSON.stringify(sim.url)}, logger: silentLogger });
      const result = await engine.load(${JSON.stringify(join(root, 'a.imageprompt.json'))});
      process.stdout.write(result.status + ' ' + result.images[0].digest);
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
      });
    const results = await Promise.all([run(), run()]);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(results.map((r) => r.split(' ')[0]).sort()).toEqual(['cached', 'generated']);
    expect(new Set(results.map((r) => r.split(' ')[1])).size).toBe(1);
  });

  it('serves a hit without a key, and fails a miss without a key naming the ways out', async () => {
    await engine().load(join(root, 'a.imageprompt.json'));
    const keyless = engine({ apiKey: undefined });
    const previous = process.env.VENICE_API_KEY;
    delete process.env.VENICE_API_KEY;
    try {
      expect((await keyless.load(join(root, 'b.imageprompt.json'))).status).toBe('cached');
      await writeFile(join(root, 'c.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a badger' }));
      const error = await keyless.load(join(root, 'c.imageprompt.json')).catch((e: ImagePromptError) => e);
      expect(error.code).toBe('MISSING_API_KEY');
      expect(error.message).toMatch(/^c\.imageprompt\.json: this image is not in the cache \(\.imageprompt\)/);
      expect(error.hint).toMatch(/set VENICE_API_KEY[\s\S]*restore the cache directory/);
    } finally {
      if (previous !== undefined) process.env.VENICE_API_KEY = previous;
    }
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('regenerates an entry whose blob was changed on disk', async () => {
    const first = await engine().load(join(root, 'a.imageprompt.json'));
    await writeFile(first.images[0]!.path, 'not the image');
    const warnings: string[] = [];
    const second = await engine({ logger: { ...silentLogger, warn: (m: string) => warnings.push(m) } }).load(join(root, 'a.imageprompt.json'));
    expect(second.status).toBe('generated');
    expect(warnings.join('\n')).toMatch(/does not match its digest/);
    expect(sim.imageRequests()).toHaveLength(2);
  });
});

describe('catalog', () => {
  it('checks against Venice’s live catalog when generating, and keeps it for an hour', async () => {
    const placeholderDir = join(root, 'cache', 'placeholders');
    await writeFile(join(root, 'c.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'x', style_preset: 'Oil Painting' }));
    const error = await engine({ placeholderDir }).load(join(root, 'c.imageprompt.json')).catch((e: ImagePromptError) => e);
    expect(error.message).toContain(`is not one of Venice's styles (${sim.url}/models?type=image)`);
    const catalogReads = () => sim.requests.filter((r) => r.method === 'GET').length;
    // image models, styles, edit models (type=inpaint) and the upscaler's prices (type=upscale)
    expect(sim.requests.filter((r) => r.method === 'GET').map((r) => r.path.replace(/^\/api\/v1/, '')).sort()).toEqual(['/image/styles', '/models?type=image', '/models?type=inpaint', '/models?type=upscale']);
    await engine({ placeholderDir }).load(join(root, 'a.imageprompt.json'));
    expect(catalogReads()).toBe(4); // the second engine read the stored copy
  });

  it('uses the bundled snapshot, with no network, when it will not generate', async () => {
    const error = await engine({ mode: 'frozen' }).load(join(root, 'a.imageprompt.json')).then(() => undefined);
    expect(error).toBeUndefined();
    expect(sim.requests).toHaveLength(0);
  });
});

describe('modes', () => {
  const file = () => join(root, 'a.imageprompt.json');

  it('placeholder: draws a local image of the expected size and format, calls nothing, caches nothing', async () => {
    await writeFile(file(), JSON.stringify({ model: 'flux-2-pro', prompt: 'hills', aspect_ratio: '16:9', format: 'png', variants: 2 }));
    const result = await engine({ mode: 'placeholder', placeholderDir: join(root, 'ph') }).load(file());
    expect(result.status).toBe('placeholder');
    expect(result.images).toHaveLength(2);
    const { readFile, readdir } = await import('node:fs/promises');
    const { sniffImage } = await import('../../src/index.js');
    for (const image of result.images) {
      expect(image.path.startsWith(join(root, 'ph'))).toBe(true);
      expect(sniffImage(await readFile(image.path))).toEqual({ format: 'png', width: 1360, height: 768 });
    }
    expect(sim.imageRequests()).toHaveLength(0);
    expect(await readdir(join(root, '.imageprompt')).catch(() => [])).toEqual([]);
  });

  it('frozen: records every miss, calls nothing, and ends with an error listing file, key and the fix', async () => {
    const e = engine({ mode: 'frozen', placeholderDir: join(root, 'ph') });
    const a = await e.load(file());
    await writeFile(join(root, 'c.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a badger' }));
    await e.load(join(root, 'c.imageprompt.json'));
    expect(a.status).toBe('missing');
    expect(sim.imageRequests()).toHaveLength(0);
    const missing = e.takeMissing();
    expect(missing.map((m) => m.file).sort()).toEqual(['a.imageprompt.json', 'c.imageprompt.json']);
    const error = e.frozenError(missing);
    expect(error.message).toContain(`a.imageprompt.json (key ${a.key})`);
    expect(error.hint).toMatch(/imageprompt generate/);
  });

  it('frozen: serves hits as usual', async () => {
    await engine().load(file());
    const result = await engine({ mode: 'frozen' }).load(file());
    expect(result.status).toBe('cached');
  });

  it('without a key: a dev server shows placeholders, a build fails naming the ways out', async () => {
    const previous = process.env.VENICE_API_KEY;
    delete process.env.VENICE_API_KEY;
    try {
      const dev = await engine({ apiKey: undefined, context: 'dev', placeholderDir: join(root, 'ph') }).load(file());
      expect(dev.status).toBe('placeholder');
      const error = await engine({ apiKey: undefined, context: 'build' }).load(file()).catch((e: ImagePromptError) => e);
      expect(error.code).toBe('MISSING_API_KEY');
      expect(error.hint).toMatch(/VENICE_API_KEY[\s\S]*restore the cache[\s\S]*IMAGEPROMPT_MODE=placeholder/);
    } finally {
      if (previous !== undefined) process.env.VENICE_API_KEY = previous;
    }
    expect(sim.imageRequests()).toHaveLength(0);
  });

  it('IMAGEPROMPT_MODE overrides the option, and a wrong mode is a clear error', async () => {
    process.env.IMAGEPROMPT_MODE = 'placeholder';
    try {
      expect(engine({ mode: 'generate', placeholderDir: join(root, 'ph') }).missMode).toBe('placeholder');
      process.env.IMAGEPROMPT_MODE = 'frozzen';
      expect(() => engine()).toThrow(/IMAGEPROMPT_MODE is "frozzen", which is not a mode\n  → use one of generate, frozen, placeholder/);
    } finally {
      delete process.env.IMAGEPROMPT_MODE;
    }
  });
});

describe('the hit index: which mode checks what', () => {
  const fileA = () => join(root, 'a.imageprompt.json');

  it('a hit this machine verified before is served from the index: no prompt file parsed, no byte hashed', async () => {
    const first = engine();
    await first.load(fileA());
    await first.drain();
    const second = engine();
    const hit = await second.load(fileA());
    await second.drain();
    expect(hit.status).toBe('cached');
    expect(second.indexedHits).toBe(1);
    // what the index serves is what the full path serves
    const third = engine({ mode: 'frozen' });
    const full = await third.load(fileA());
    expect(third.indexedHits).toBe(0);
    expect({ ...hit, images: hit.images.map((i) => ({ ...i })) }).toEqual({ ...full, images: full.images.map((i) => ({ ...i })) });
  });

  it('anything changed since it was verified falls back to the full check: the prompt file, the blob, the settings', async () => {
    const first = engine();
    const made = await first.load(fileA());
    await first.drain();
    // the blob rewritten: its stamp changed, so it is hashed again and found changed
    await writeFile(made.images[0]!.path, 'not the image');
    const warnings: string[] = [];
    const second = engine({ logger: { ...silentLogger, warn: (m: string) => warnings.push(m) } });
    expect((await second.load(fileA())).status).toBe('generated');
    expect(second.indexedHits).toBe(0);
    expect(warnings.join('\n')).toMatch(/does not match its digest/);
    await second.drain();
    // other settings (here the project's defaults) lead elsewhere: not served from the index
    await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: { format: 'png' } }));
    const third = engine();
    await third.load(fileA());
    expect(third.indexedHits).toBe(0);
    await rm(join(root, 'imageprompt.config.json'));
    // the prompt file edited: its bytes differ
    await writeFile(fileA(), JSON.stringify({ model: 'z-image-turbo', prompt: 'a fox, edited', width: 256, height: 256 }));
    const fourth = engine();
    expect((await fourth.load(fileA())).status).toBe('generated');
    expect(fourth.indexedHits).toBe(0);
  });

  it('a blob changed in place with its mtime put back is found: by the digest in frozen mode, by its change time in the index', async () => {
    const first = engine();
    const made = await first.load(fileA());
    await first.drain();
    const blob = made.images[0]!.path;
    const { stat, utimes } = await import('node:fs/promises');
    const before = await stat(blob);
    const bytes = await readFile(blob);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(blob, bytes);
    await utimes(blob, before.atimeMs / 1000, before.mtimeMs / 1000);
    // frozen mode (CI) verifies the digest and finds the change
    const frozen = engine({ mode: 'frozen' });
    expect((await frozen.load(fileA())).status).toBe('missing');
    // size, mtime and inode are as recorded, but the change time moved: the index does not serve it,
    // and the full path finds the digest wrong and generates again
    const after = await stat(blob);
    expect([after.size, Math.trunc(after.mtimeMs), after.ino]).toEqual([before.size, Math.trunc(before.mtimeMs), before.ino]);
    const indexed = engine();
    expect((await indexed.load(fileA())).status).toBe('generated');
    expect(indexed.indexedHits).toBe(0);
  });
});

describe('warnings about a prompt file', () => {
  it('are said once a run, however often the file is prepared and loaded', async () => {
    const file = join(root, 'seeded.imageprompt.json');
    await writeFile(file, JSON.stringify({ model: 'gpt-image-2', prompt: 'a fox', seed: 7 }));
    const warnings: string[] = [];
    const e = engine({ logger: { ...silentLogger, warn: (m: string) => warnings.push(m) } });
    await e.prepare(file);
    await e.prepare(file);
    await e.load(file);
    expect(warnings.filter((w) => /seeded\.imageprompt\.json: gpt-image-2 ignores "seed"/.test(w))).toHaveLength(1);
  });
});

describe("a simulator's drawing is never a paid image", () => {
  it("is recorded as the simulator's, never served from Venice's own base URL, and served where the build points elsewhere", async () => {
    const made = await engine().load(join(root, 'a.imageprompt.json'));
    const manifest = JSON.parse(await readFile(join(root, '.imageprompt', 'entries', `${made.key}.json`), 'utf8')) as { origin?: unknown };
    expect(manifest.origin).toEqual({ host: new URL(sim.url).host, simulator: true });
    const warnings: string[] = [];
    const atVenice = (mode: 'frozen' | 'placeholder') =>
      engine({ baseURL: 'https://api.venice.ai/api/v1', mode, logger: { ...silentLogger, warn: (m: string) => warnings.push(m) } }).load(join(root, 'a.imageprompt.json'));
    expect((await atVenice('frozen')).status).toBe('missing');
    expect((await atVenice('placeholder')).status).toBe('placeholder');
    expect(warnings.join('\n')).toMatch(/a\.imageprompt\.json: the cached image is a drawing of the simulator at 127\.0\.0\.1:\d+, not a paid Venice image/);
    // pointed at a simulator, a proxy or a dead port, the drawing serves
    expect((await engine({ mode: 'frozen' }).load(join(root, 'a.imageprompt.json'))).status).toBe('cached');
    // and plan, check and generate count it as there only then
    expect(await engine({ mode: 'frozen' }).placeOf(made.key, 'a.imageprompt.json')).toBe('local');
    expect(await engine({ baseURL: 'https://api.venice.ai/api/v1', mode: 'frozen' }).placeOf(made.key, 'a.imageprompt.json')).toBeUndefined();
  });
});
