/**
 * The hit path, as a build meets it: a build whose prompt files this machine verified before is
 * served from the hit index without loading the engine, and emits the same files; anything that
 * could change a key (here, a setting) loads the engine and checks again.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('slow-site');
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

/** Builds the site; resolves to the sha256 of each emitted image, in import order. */
async function viteBuild(options: { metadata?: boolean } = {}): Promise<string[]> {
  logs = [];
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    // defaults given in code: the engine records them when it is made, which tells whether it was
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger, defaults: { model: 'z-image-turbo' }, ...options })],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  const shown = (globalThis as unknown as { __imageprompt: { src: string }[] }).__imageprompt;
  return Promise.all(shown.map(async (image) => createHash('sha256').update(await readFile(join(root, 'dist', image.src))).digest('hex')));
}

const recorded = () => join(root, '.imageprompt', 'build-defaults.json');

describe('a build of hits this machine verified', () => {
  it('is served from the hit index without loading the engine, and emits the same files', async () => {
    const first = await viteBuild();
    expect(sim.imageRequests()).toHaveLength(4);
    expect(existsSync(recorded())).toBe(true);
    await rm(recorded());
    const second = await viteBuild();
    expect(second).toEqual(first);
    expect(logs.filter((l) => /: cache hit$/.test(l))).toHaveLength(4);
    expect(logs).toContain('4 images: 4 cached, 0 generated, 0 failed');
    // the engine, made, would have recorded the defaults again
    expect(existsSync(recorded())).toBe(false);
    expect(sim.imageRequests()).toHaveLength(4);
  });

  it('loads the engine and checks again when a setting changed', async () => {
    const third = await viteBuild({ metadata: false });
    expect(existsSync(recorded())).toBe(true);
    expect(third).toHaveLength(4);
    expect(logs).toContain('4 images: 4 cached, 0 generated, 0 failed');
    expect(sim.imageRequests()).toHaveLength(4);
  });
});
