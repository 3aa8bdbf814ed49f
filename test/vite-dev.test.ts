/**
 * The Vite dev server: a prompt-file import serves the cached image (from a cache directory outside
 * the project root, at a URL that names no path of the machine), and editing the prompt file on disk
 * regenerates it and invalidates the module without a restart.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { silentLogger } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let server: ViteDevServer;
let base: string;
let cacheDir: string;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('vite-app');
  cacheDir = await mkdtemp(join(tmpdir(), 'imageprompt-outside-root-'));
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, cacheDir })],
    server: { port: 0, host: '127.0.0.1', fs: { strict: true } },
  });
  await server.listen();
  base = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
});
afterAll(async () => {
  await server?.close();
  await sim.close();
  await removeFixture(root);
  await rm(cacheDir, { recursive: true, force: true });
});

/** The URL the page's script imports the hero prompt file from, as the dev server rewrote it. */
async function heroModuleUrl(): Promise<string> {
  const main = await (await fetch(`${base}/src/main.js`)).text();
  const match = /from\s+"([^"]*hero\.imageprompt\.json[^"]*)"/.exec(main);
  expect(match, main).toBeTruthy();
  return match![1]!;
}

/** Waits until the module at `url` shows the generated image, not a placeholder; returns its code. */
async function generated(url: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const code = await (await fetch(`${base}${url}`)).text();
    if (code.includes('export const placeholder = false;')) return code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} still shows a placeholder`);
}

async function heroImageUrl(): Promise<string> {
  const code = await (await fetch(`${base}${await heroModuleUrl()}`)).text();
  const match = /src: "([^"]+)"/.exec(code);
  expect(match, code).toBeTruthy();
  return match![1]!;
}

describe('Vite dev server', () => {
  it('serves the generated image at a URL named after the prompt file, from a cache outside the root', async () => {
    // a miss shows a placeholder at once; the module gives the generated image once it has landed
    const first = await (await fetch(`${base}${await heroModuleUrl()}`)).text();
    expect(first).toContain('export const placeholder = true;');
    await generated(await heroModuleUrl());
    const url = await heroImageUrl();
    expect(url).toMatch(/^\/@imageprompt\/hero-[0-9a-f]{16}\.webp$/);
    const code = await (await fetch(`${base}${await heroModuleUrl()}`)).text();
    expect(code).not.toContain(cacheDir);
    expect(code).not.toMatch(/\bimport\b/);
    const res = await fetch(`${base}${url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const bytes = Buffer.from(await res.arrayBuffer());
    const blob = join(cacheDir, 'blobs', `${sha256(bytes)}.webp`);
    await expect(readFile(blob)).resolves.toEqual(bytes);
    // only what a module was given is served
    expect((await fetch(`${base}/@imageprompt/hero-0000000000000000.webp`)).status).toBe(404);
    expect((await fetch(`${base}/@imageprompt/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('regenerates after the prompt file is edited, without a restart', async () => {
    const before = await heroImageUrl();
    sim.script({ clearRequests: true });
    const file = join(root, 'src', 'hero.imageprompt.json');
    const prompt = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...prompt, prompt: 'A lighthouse on a rocky coast at dawn' }, null, 2));
    let after = before;
    let code = '';
    for (let i = 0; i < 100 && (after === before || !code.includes('placeholder = false')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = await (await fetch(`${base}${await heroModuleUrl()}`)).text();
      after = /src: "([^"]+)"/.exec(code)![1]!;
    }
    expect(after).not.toBe(before);
    expect(code).toContain('export const placeholder = false;');
    // (the dev server pre-transforms the page's other imports, so count only the edited request)
    const edited = sim.imageRequests().filter((r) => (r.body as { prompt?: string }).prompt === 'A lighthouse on a rocky coast at dawn');
    expect(edited).toHaveLength(1);
  });

  it('picks up edits to a prompt file whose module was requested before any importer named it', async () => {
    // a module URL a browser may hold from an earlier page load, fetched before any importer
    const file = join(root, 'src', 'late.imageprompt.json');
    await writeFile(file, JSON.stringify({ model: 'z-image-turbo', prompt: 'A lone tree on a hill', width: 256, height: 256 }));
    const url = `${base}/@id/__x00__imageprompt:src/late.imageprompt.json.js`;
    const shown = async () => /src: "([^"]+)"/.exec(await (await fetch(url)).text())?.[1];
    await generated('/@id/__x00__imageprompt:src/late.imageprompt.json.js');
    const before = await shown();
    expect(before).toMatch(/^\/@imageprompt\/late-[0-9a-f]{16}\.webp$/);
    await writeFile(file, JSON.stringify({ model: 'z-image-turbo', prompt: 'A lone tree on a hill in snow', width: 256, height: 256 }));
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await shown();
    }
    expect(after).not.toBe(before);
    await generated('/@id/__x00__imageprompt:src/late.imageprompt.json.js');
    expect(sim.imageRequests().filter((r) => (r.body as { prompt?: string }).prompt === 'A lone tree on a hill in snow')).toHaveLength(1);
  });
});

describe('Vite dev server with waitInDev', () => {
  it('waits for the generated image as a build does, and never hands out a placeholder', async () => {
    const dir = await copyFixture('vite-app');
    const waiting = await createServer({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger, waitInDev: true })],
      server: { port: 0, host: '127.0.0.1' },
    });
    try {
      await waiting.listen();
      const url = waiting.resolvedUrls!.local[0]!.replace(/\/$/, '');
      const code = await (await fetch(`${url}/@id/__x00__imageprompt:src/banner.imageprompt.json.js`)).text();
      expect(code).toContain('export const placeholder = false;');
      expect(code).toMatch(/src: "\/@imageprompt\/banner-[0-9a-f]{16}\.jpg"/);
    } finally {
      await waiting.close();
      await removeFixture(dir);
    }
  });
});

