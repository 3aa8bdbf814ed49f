/**
 * Real Vite builds of a fixture project against the local Venice-compatible server over HTTP.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger, Manifest } from 'imageprompt';
import type { PromptImport } from './helpers/prompt-import.js';
import { copyFixture, filesContaining, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
const logs: string[] = [];
const logger: Logger = {
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

type Shown = PromptImport;

async function buildOnce(outDir: string): Promise<Record<string, Shown | string>> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger })],
    // no modulepreload polyfill: the built script is run in Node to read what the imports gave
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false } },
  });
  const js = (await listFiles(join(root, outDir))).find((f) => f.endsWith('.js'))!;
  delete (globalThis as { __imageprompt?: unknown }).__imageprompt;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: Record<string, Shown | string> }).__imageprompt;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('vite-app');
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

describe('Vite build', () => {
  let first: Record<string, Shown | string>;

  it('generates each distinct request once and emits exactly the served bytes as hashed assets', async () => {
    first = await buildOnce('dist');
    const requests = sim.imageRequests();
    // hero and twin are the same request written differently: one call for both
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.status === 200)).toBe(true);
    const served = new Set(requests.flatMap((r) => r.servedImages));
    expect(served.size).toBe(4);

    const hero = first.hero as Shown;
    expect(hero).toMatchObject({ width: 640, height: 400, format: 'webp', alt: 'A lighthouse at dusk' });
    // named after the prompt file; twin has the same bytes, so one file serves both (named by the first name)
    expect(hero.src).toMatch(/^\/assets\/hero-[\w-]{8}\.webp$/);
    expect(first.heroAlt).toBe('A lighthouse at dusk');
    expect((first.twin as Shown).src).toBe(hero.src);
    expect((first.twin as Shown).alt).toBe('The same request as hero');

    const pears = first.pears as Shown;
    expect(pears.variants).toHaveLength(2);
    expect(pears.variants.map((v) => v.format)).toEqual(['png', 'png']);
    expect(pears.alt).toBeUndefined();
    expect((first.banner as Shown).format).toBe('jpeg');
    expect(pears.variants.map((v) => v.src)).toEqual([expect.stringMatching(/^\/assets\/pears-1-[\w-]{8}\.png$/), expect.stringMatching(/^\/assets\/pears-2-[\w-]{8}\.png$/)]);
    expect((first.banner as Shown).src).toMatch(/^\/assets\/banner-[\w-]{8}\.jpg$/);

    const emitted = [hero, ...pears.variants, first.banner as Shown].map((image) => image.src);
    for (const src of emitted) {
      const bytes = await readFile(join(root, 'dist', src));
      expect(served.has(sha256(bytes)), `${src} holds bytes the server sent`).toBe(true);
    }
    const assets = (await listFiles(join(root, 'dist', 'assets'))).filter((f) => !f.endsWith('.js'));
    expect(assets).toHaveLength(4);
  });

  it('records each request in a manifest with the served digests', async () => {
    const entries = (await listFiles(join(root, '.imageprompt', 'entries'))).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(3);
    const manifests = await Promise.all(entries.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest));
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));
    for (const manifest of manifests) {
      expect(basename(manifest.outputs[0]!.file)).toMatch(/^[0-9a-f]{64}\.(webp|png|jpg)$/);
      for (const output of manifest.outputs) expect(served.has(output.digest)).toBe(true);
      expect(manifest.seed).toBe(manifest.request.seed);
      expect(manifest.request).not.toHaveProperty('alt');
    }
    const pears = manifests.find((m) => m.request.variants === 2)!;
    expect(pears.response.id).toMatch(/^generate-image-/);
    expect(pears.seedSource).toBe('derived');
  });

  it('makes no API call on a second build and emits the same files', async () => {
    sim.script({ clearRequests: true });
    logs.length = 0;
    const second = await buildOnce('dist2');
    expect(sim.imageRequests()).toHaveLength(0);
    expect(second).toEqual(first);
    expect(logs).toContain('info src/hero.imageprompt.json: cache hit');
    expect(logs.at(-1)).toBe('info 4 images: 4 cached, 0 generated, 0 failed');
  });

  it("gives the image's URL alone with ?imageprompt&url, beside the object import (not Vite's own ?url, the JSON file's)", async () => {
    sim.script({ clearRequests: true });
    const main = join(root, 'src', 'main.js');
    const original = await readFile(main, 'utf8');
    await writeFile(main, `${original}import heroUrl from './hero.imageprompt.json?imageprompt&url';\nimport pearsUrl from './pears.imageprompt.json?imageprompt&url';\nObject.assign(globalThis.__imageprompt, { heroUrl, pearsUrl });\n`);
    try {
      logs.length = 0;
      const shown = await buildOnce('dist-url');
      expect(sim.imageRequests()).toHaveLength(0);
      expect(shown.heroUrl).toBe((first.hero as Shown).src);
      expect(shown.pearsUrl).toBe((first.pears as Shown).variants[0]!.src);
      // a prompt file imported both ways is one image in the summary, as it is one request
      expect(logs.at(-1)).toBe('info 4 images: 4 cached, 0 generated, 0 failed');
    } finally {
      await writeFile(main, original);
    }
  });

  it('makes no call when only alt or key order changes, and the new alt shows', async () => {
    sim.script({ clearRequests: true });
    await writeFile(
      join(root, 'src', 'hero.imageprompt.json'),
      JSON.stringify({ alt: 'A new caption', height: 400, prompt: 'A lighthouse on a rocky coast at dusk', width: 640, model: 'z-image-turbo' }, null, 4),
    );
    const result = await buildOnce('dist3');
    expect(sim.imageRequests()).toHaveLength(0);
    expect((result.hero as Shown).alt).toBe('A new caption');
  });

  it('makes exactly one call when one prompt changes', async () => {
    sim.script({ clearRequests: true });
    const file = join(root, 'src', 'banner.imageprompt.json');
    const banner = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...banner, prompt: 'Green hills in fog, a red barn' }));
    const result = await buildOnce('dist4');
    expect(sim.imageRequests()).toHaveLength(1);
    expect((result.banner as Shown).src).not.toBe((first.banner as Shown).src);
  });

  it('never writes the API key to the output, the cache or the logs', async () => {
    expect(await filesContaining(root, KEY)).toEqual([]);
    expect(logs.join('\n')).not.toContain(KEY);
    expect(JSON.stringify(sim.requests)).not.toContain(KEY);
  });

  it('fails the build with the file, the field and the fix for a bad prompt file, and calls nothing', async () => {
    sim.script({ clearRequests: true });
    const file = join(root, 'src', 'banner.imageprompt.json');
    await writeFile(file, '{ "model": "flux-2-pro", "prompt": "x", "negativePrompt": "fog" }');
    const error = await buildOnce('dist5').catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(/src\/banner\.imageprompt\.json, field "negativePrompt": is not a field Venice accepts[\s\S]*did you mean "negative_prompt"/);
    expect(sim.imageRequests()).toHaveLength(0);
  });
});
