/**
 * The Vite dev server: a prompt-file import serves the cached image, and editing the prompt file on
 * disk regenerates it and invalidates the module without a restart.
 */
import { readFile, writeFile } from 'node:fs/promises';
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

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('vite-app');
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger })],
    server: { port: 0, host: '127.0.0.1' },
  });
  await server.listen();
  base = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
});
afterAll(async () => {
  await server?.close();
  await sim.close();
  await removeFixture(root);
});

/** The URL the page's script imports the hero prompt file from, as the dev server rewrote it. */
async function heroModuleUrl(): Promise<string> {
  const main = await (await fetch(`${base}/src/main.js`)).text();
  const match = /from\s+"([^"]*hero\.imageprompt\.json[^"]*)"/.exec(main);
  expect(match, main).toBeTruthy();
  return match![1]!;
}

async function heroImageUrl(): Promise<string> {
  const code = await (await fetch(`${base}${await heroModuleUrl()}`)).text();
  const match = /import image0 from "([^"]+)"/.exec(code);
  expect(match, code).toBeTruthy();
  return match![1]!;
}

describe('Vite dev server', () => {
  it('serves the generated image at a content-addressed URL', async () => {
    const url = await heroImageUrl();
    expect(url).toMatch(/[0-9a-f]{64}\.webp/);
    const res = await fetch(`${base}${url.replace(/\?import$/, '')}`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
  });

  it('regenerates after the prompt file is edited, without a restart', async () => {
    const before = await heroImageUrl();
    sim.script({ clearRequests: true });
    const file = join(root, 'src', 'hero.imageprompt.json');
    const prompt = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...prompt, prompt: 'A lighthouse on a rocky coast at dawn' }, null, 2));
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await heroImageUrl();
    }
    expect(after).not.toBe(before);
    // (the dev server pre-transforms the page's other imports, so count only the edited request)
    const edited = sim.imageRequests().filter((r) => (r.body as { prompt?: string }).prompt === 'A lighthouse on a rocky coast at dawn');
    expect(edited).toHaveLength(1);
  });
});
