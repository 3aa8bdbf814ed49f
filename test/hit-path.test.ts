/**
 * The hit path, as a build meets it: a build whose prompt files this machine verified before is
 * served from the hit index without loading the engine (no module of it, nor zod, is even
 * imported), and emits the same files; anything that could change a key (here, a setting) loads
 * the engine and checks again.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger } from 'imageprompt';
import { TEST_DIR, copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

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

/** Builds the site (`at`, the shared fixture unless told); resolves to the sha256 of each emitted image, in import order. */
async function viteBuild(at = root): Promise<string[]> {
  logs = [];
  await build({
    root: at,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger, concurrency: 1 })],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(at, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  const shown = (globalThis as unknown as { __imageprompt: { src: string }[] }).__imageprompt;
  return Promise.all(shown.map(async (image) => createHash('sha256').update(await readFile(join(at, 'dist', image.src))).digest('hex')));
}

/** A `vite build` in its own process; resolves to every module URL the process loaded. */
async function modulesLoadedByBuild(): Promise<string[]> {
  const log = join(root, 'imports.log');
  await rm(log, { force: true });
  const result = await runNode(['--import', join(TEST_DIR, 'helpers', 'record-imports.mjs'), binOf('vite', 'bin/vite.js'), 'build', '--logLevel', 'error'], {
    cwd: root,
    env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_TEST_IMPORTS: log },
  });
  expect(result.code, result.output).toBe(0);
  return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
}

const engineEntry = (url: string) => /\/imageprompt\/dist\/bundle\/index\.js$/.test(url) || /\/node_modules\/zod\//.test(url);
/** Our packages' modules a process loaded: what ships is bundled (dist/bundle/), never tsc's modules beside it. */
const ours = (urls: string[]) => urls.filter((url) => /\/(unplugin-)?imageprompt\/dist\//.test(url)).map((url) => url.replace(/.*\/((unplugin-)?imageprompt\/dist\/)/, '$1'));

describe('a build of hits this machine verified', () => {
  it('is served from the hit index without loading the engine or zod, and emits the same files', async () => {
    const first = await modulesLoadedByBuild();
    expect(sim.imageRequests()).toHaveLength(4);
    expect(first.some(engineEntry)).toBe(true);
    const second = await modulesLoadedByBuild();
    expect(second.filter(engineEntry)).toEqual([]);
    expect(second.some((url) => url.endsWith('/imageprompt/dist/bundle/hits.js'))).toBe(true);
    // the plugin and the hit path are a few files: an entry and its shared chunk in each package
    expect(ours(second).filter((path) => !/^(unplugin-)?imageprompt\/dist\/bundle\/[\w-]+\.js$/.test(path))).toEqual([]);
    expect(ours(second).length).toBeLessThanOrEqual(4);
    expect(sim.imageRequests()).toHaveLength(4);
    // in process too: the same bytes, said as hits
    const again = await viteBuild();
    expect(logs.filter((l) => /: cache hit$/.test(l))).toHaveLength(4);
    expect(logs).toContain('4 images: 4 cached, 0 generated, 0 failed');
    expect(await viteBuild()).toEqual(again);
  });

  it('loads the engine and checks again when a setting changed', async () => {
    await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ metadata: false }));
    const third = await modulesLoadedByBuild();
    expect(third.some(engineEntry)).toBe(true);
    expect(await viteBuild()).toHaveLength(4);
    expect(logs).toContain('4 images: 4 cached, 0 generated, 0 failed');
    expect(sim.imageRequests()).toHaveLength(4);
  });

  it('counts and says a prompt file imported twice once, as the engine serves it and from the index', async () => {
    const twice = await copyFixture('slow-site');
    try {
      await writeFile(join(twice, 'src', 'p1.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'imported twice', width: 256, height: 256 }));
      // two imports of one file, with different directives: two modules, one image
      await writeFile(join(twice, 'src', 'main.js'), "import p1 from './p1.imageprompt.json?imageprompt';\nimport small from './p1.imageprompt.json?imageprompt&w=64';\nglobalThis.__imageprompt = [p1, small];\n");
      const before = sim.imageRequests().length;
      for (const expected of ['1 image: 0 cached, 1 generated, 0 failed', '1 image: 1 cached, 0 generated, 0 failed']) {
        await viteBuild(twice);
        expect(logs, logs.join('\n')).toContain(expected);
        expect(logs.filter((l) => /p1\.imageprompt\.json: (generated in|cache hit)/.test(l))).toHaveLength(1);
      }
      expect(sim.imageRequests().length - before).toBe(1);
    } finally {
      await removeFixture(twice);
    }
  });
});
