/**
 * Builds in each mode, Vite in-process and Astro as a user runs it: frozen fails on a miss listing
 * it, placeholder draws the right size and format, and a later generate build brings the real images;
 * none of the first two makes a request.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { silentLogger, sniffImage, type Mode } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
const roots: string[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(async () => {
  await sim.close();
  for (const root of roots) await removeFixture(root);
});

interface Shown {
  src: string;
  width: number;
  height: number;
  format: string;
  placeholder: boolean;
  variants: { src: string; width: number; height: number; format: string }[];
}

async function viteBuild(root: string, mode: Mode, outDir: string): Promise<Record<string, Shown>> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, mode })],
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false } },
  });
  const js = (await listFiles(join(root, outDir))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: Record<string, Shown> }).__imageprompt;
}

describe('Vite builds by mode', () => {
  it('frozen with misses fails listing every missing prompt file and makes no request', async () => {
    const root = await copyFixture('vite-app');
    roots.push(root);
    sim.script({ clearRequests: true });
    const error = await viteBuild(root, 'frozen', 'dist').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    for (const file of ['src/hero.imageprompt.json', 'src/pears.imageprompt.json', 'src/banner.imageprompt.json', 'src/twin.imageprompt.json']) {
      expect(message).toContain(file);
    }
    expect(message).toMatch(/not in the cache \(\.imageprompt\) and frozen mode generates nothing/);
    expect(sim.imageRequests()).toHaveLength(0);
    // nothing full-size was drawn for a build that fails: only token placeholders
    const { readdir } = await import('node:fs/promises');
    const drawn = await readdir(join(root, 'node_modules', '.cache', 'imageprompt', 'placeholders'));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.every((f) => f.includes('-token.'))).toBe(true);
  });

  it('placeholder emits marked images of the requested size and format with no request; generate then replaces them', async () => {
    const root = await copyFixture('vite-app');
    roots.push(root);
    sim.script({ clearRequests: true });
    const drafts = await viteBuild(root, 'placeholder', 'dist');
    expect(sim.imageRequests()).toHaveLength(0);
    expect(drafts.hero!.placeholder).toBe(true);
    const expected: Record<string, [number, number, string]> = { hero: [640, 400, 'webp'], banner: [1360, 768, 'jpeg'], pears: [1248, 832, 'png'] };
    for (const [name, [width, height, format]] of Object.entries(expected)) {
      const image = drafts[name]!;
      expect(image).toMatchObject({ width, height, format });
      expect(sniffImage(await readFile(join(root, 'dist', image.src)))).toEqual({ width, height, format });
    }
    expect(drafts.pears!.variants).toHaveLength(2);
    expect(await listFiles(join(root, '.imageprompt'))).toEqual([]);

    const real = await viteBuild(root, 'generate', 'dist');
    expect(sim.imageRequests()).toHaveLength(3);
    expect(real.hero!.placeholder).toBe(false);
    expect(real.hero!.src).not.toBe(drafts.hero!.src);
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(await readFile(join(root, 'dist', real.hero!.src))).digest('hex');
    expect(served.has(digest)).toBe(true);

    const frozen = await viteBuild(root, 'frozen', 'dist');
    expect(frozen.hero!.src).toBe(real.hero!.src);
    expect(sim.imageRequests()).toHaveLength(3);
  });
});

describe('Astro builds by mode', () => {
  const astro = binOf('astro', 'bin/astro.mjs');

  it('frozen fails listing the misses; placeholder builds with no request; generate brings the real images', async () => {
    const root = await copyFixture('astro-site');
    roots.push(root);
    sim.script({ clearRequests: true });
    const env = (mode: Mode) => ({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_MODE: mode });

    const frozen = await runNode([astro, 'build'], { cwd: root, env: env('frozen') });
    expect(frozen.code).not.toBe(0);
    expect(frozen.output).toContain('src/hero.imageprompt.json (key ');
    expect(frozen.output).toContain('src/pears.imageprompt.json (key ');
    expect(sim.imageRequests()).toHaveLength(0);

    const placeholder = await runNode([astro, 'build'], { cwd: root, env: env('placeholder') });
    expect(placeholder.code, placeholder.output).toBe(0);
    // a key is set: the line says how to leave placeholder mode, not to set the key
    expect(placeholder.output).toMatch(/src\/hero\.imageprompt\.json: PLACEHOLDER \(not in the cache; placeholder mode\); unset IMAGEPROMPT_MODE to generate the real image/);
    expect(placeholder.output).not.toMatch(/set VENICE_API_KEY/);
    expect(sim.imageRequests()).toHaveLength(0);
    const draftHtml = await readFile(join(root, 'dist', 'index.html'), 'utf8');
    expect(draftHtml).toContain('&quot;width&quot;:640,&quot;height&quot;:400');

    const generate = await runNode([astro, 'build'], { cwd: root, env: env('generate') });
    expect(generate.code, generate.output).toBe(0);
    expect(sim.imageRequests()).toHaveLength(2);
    const html = await readFile(join(root, 'dist', 'index.html'), 'utf8');
    expect(html).not.toBe(draftHtml);
  });
});
