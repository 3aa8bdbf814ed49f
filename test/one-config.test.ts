/**
 * One home for what changes a key: `imageprompt.config.json`, read by the plugin and the command
 * alike. A Vite build, an Astro build and `imageprompt check` compute the same keys from it, and the
 * command agrees on a fresh clone before any build; defaults or providers given in code are one error
 * showing the JSON to write instead, in every entry, before anything is paid.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import rollupPlugin from 'unplugin-imageprompt/rollup';
import { silentLogger, type PromptDefaults } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const bin = commandOf('imageprompt');
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
  await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: DEFAULTS }));
  return () => removeFixture(root);
});

const viteBuild = (options: Record<string, unknown> = {}) =>
  build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, ...options })],
    build: { outDir: 'dist', emptyOutDir: true },
  });
const keys = async (dir = root) => (await readdir(join(dir, '.imageprompt', 'entries'))).sort();
const command = (name: string, dir = root) => runNode([bin, name, '--json'], { cwd: dir, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined } });

describe('the plugin and the command compute the same keys', () => {
  it('on a fresh clone, before any build, the command names the keys the build then makes', async () => {
    const planned = await command('check');
    expect(planned.code, planned.output).toBe(1);
    const missing = (JSON.parse(planned.output) as { missing: { key: string }[] }).missing.map((m) => `${m.key}.json`).sort();
    expect(missing).toHaveLength(4);
    await viteBuild();
    expect(await keys()).toEqual(missing);
    const checked = await command('check');
    expect(checked.code, checked.output).toBe(0);
    expect(JSON.parse(checked.output)).toMatchObject({ ok: true, cached: 4, missing: [] });
  });

  it('an Astro build reads the same file and agrees with the command', async () => {
    const site = await copyFixture('astro-site');
    try {
      await writeFile(join(site, 'imageprompt.config.json'), JSON.stringify({ defaults: DEFAULTS }));
      await writeFile(join(site, 'src', 'hero.imageprompt.json'), JSON.stringify({ prompt: 'picture number 1', alt: 'one' }));
      await writeFile(join(site, 'src', 'pears.imageprompt.json'), JSON.stringify({ prompt: 'picture number 2', variants: 2 }));
      const built = await runNode([astro, 'build'], { cwd: site, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
      expect(built.code, built.output).toBe(0);
      const checked = await command('check', site);
      expect(checked.code, checked.output).toBe(0);
      expect(JSON.parse(checked.output)).toMatchObject({ ok: true, cached: 2 });
    } finally {
      await removeFixture(site);
    }
  });
});

describe('settings that change keys, given in code', () => {
  it('are one error showing the JSON to write, merged with the file, before anything is paid', async () => {
    const error = await viteBuild({ defaults: { format: 'webp' }, providers: { acme: { baseURL: 'https://images.example.com/v1', apiKeyEnv: 'ACME_API_KEY' } } }).catch((e: Error) => e);
    const text = String((error as Error).message ?? error);
    expect(text).toMatch(/"defaults" and "providers" change request keys, so they belong in imageprompt\.config\.json, which the build and the imageprompt command both read, not in code/);
    const json = /write this to imageprompt\.config\.json at the project root:\n\s+(\{.*\})/.exec(text)?.[1];
    expect(JSON.parse(json!)).toEqual({
      defaults: { ...DEFAULTS, format: 'webp' },
      providers: { acme: { baseURL: 'https://images.example.com/v1', apiKeyEnv: 'ACME_API_KEY' } },
    });
    expect(sim.imageRequests()).toHaveLength(0);
  });

  it('in every entry, not only Vite', async () => {
    const { rollup } = await import('rollup');
    const error = await rollup({ input: join(root, 'src', 'main.js'), plugins: [rollupPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, defaults: { model: 'z-image-turbo' } })] }).catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(/"defaults" changes request keys, so it belongs in imageprompt\.config\.json/);
    expect(sim.imageRequests()).toHaveLength(0);
  });
});
