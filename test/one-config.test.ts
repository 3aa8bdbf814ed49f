/**
 * One configuration that the plugin and the command agree on: defaults given in plugin options
 * only, in imageprompt.config.json only, or in both, give the same request keys in a Vite build, an
 * Astro build and `imageprompt check`; the same field set to two values is an error in both.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { silentLogger, type PromptDefaults } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

const KEY = secretKey();
const bin = binOf('imageprompt', 'dist/cli/main.js');
const astro = binOf('astro', 'bin/astro.mjs');
let sim: VeniceSim;
let root: string;
const DEFAULTS: PromptDefaults = { model: 'z-image-turbo', format: 'png', width: 512, height: 512 };

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  sim.script({ clearRequests: true });
  // prompt files that lean on the defaults for their model, format and size
  for (let i = 1; i <= 4; i++) await writeFile(join(root, 'src', `p${i}.imageprompt.json`), JSON.stringify({ prompt: `picture number ${i}` }));
  return () => removeFixture(root);
});

const viteBuild = (defaults?: PromptDefaults) =>
  build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, ...(defaults ? { defaults } : {}) })],
    build: { outDir: 'dist', emptyOutDir: true },
  });
const keys = async (dir = root) => (await readdir(join(dir, '.imageprompt', 'entries'))).sort();
const check = (dir = root) => runNode([bin, 'check', '--json'], { cwd: dir, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined } });

describe('the plugin and the command compute the same keys', () => {
  it.each([
    ['plugin options only', { plugin: DEFAULTS, file: undefined }],
    ['imageprompt.config.json only', { plugin: undefined, file: DEFAULTS }],
    ['both, each holding some fields', { plugin: { format: 'png', width: 512 } as PromptDefaults, file: { model: 'z-image-turbo', height: 512, width: 512 } as PromptDefaults }],
  ])('%s', async (_name, { plugin, file }) => {
    if (file) await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: file }));
    await viteBuild(plugin);
    const built = await keys();
    expect(built).toHaveLength(4);
    const checked = await check();
    expect(checked.code, checked.output).toBe(0);
    expect(JSON.parse(checked.output)).toMatchObject({ ok: true, cached: 4, missing: [] });
    // and the same four keys as every other set-up: the requests are the same
    expect(built).toEqual(EXPECTED ??= built);
  });

  it('an Astro build with the defaults in astro.config.mjs agrees with the command', async () => {
    const site = await copyFixture('astro-site');
    try {
      await writeFile(join(site, 'src', 'hero.imageprompt.json'), JSON.stringify({ prompt: 'picture number 1', alt: 'one' }));
      await writeFile(join(site, 'src', 'pears.imageprompt.json'), JSON.stringify({ prompt: 'picture number 2', variants: 2 }));
      await writeFile(
        join(site, 'astro.config.mjs'),
        `import { defineConfig } from 'astro/config';\nimport imageprompt from 'unplugin-imageprompt/astro';\nexport default defineConfig({ integrations: [imageprompt({ defaults: ${JSON.stringify(DEFAULTS)} })] });\n`,
      );
      const built = await runNode([astro, 'build'], { cwd: site, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
      expect(built.code, built.output).toBe(0);
      const checked = await check(site);
      expect(checked.code, checked.output).toBe(0);
      expect(JSON.parse(checked.output)).toMatchObject({ ok: true, cached: 2 });
    } finally {
      await removeFixture(site);
    }
  });

  it('the same field set to two values is an error in the build and in the command', async () => {
    // the command meets the conflict through the defaults the last build recorded
    await viteBuild({ model: 'z-image-turbo', format: 'png' });
    await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: { model: 'z-image-turbo', format: 'webp' } }));
    const checked = await check();
    expect(checked.code).toBe(2);
    expect(checked.output).toMatch(/imageprompt: imageprompt\.config\.json, field "defaults\.format": is "webp", but the plugin options say "png"/);
    sim.script({ clearRequests: true });
    await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: { model: 'z-image-turbo', format: 'webp' } }));
    const error = await viteBuild({ format: 'png' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/imageprompt\.config\.json, field "defaults\.format": is "webp", but the plugin options say "png"[\s\S]*keep defaults in imageprompt\.config\.json only/);
    expect(sim.imageRequests().filter((r) => JSON.stringify(r.body).includes('picture number'))).toHaveLength(0);
  });
});

let EXPECTED: string[] | undefined;
