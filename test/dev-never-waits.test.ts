/**
 * Dev servers never wait for Venice, seen in Chromium: with the local server holding every image
 * request unanswered, a Vite and an Astro dev page importing four prompt files show four
 * placeholders of the right size; released, the generated images replace them without a restart of
 * the server. Order, not the clock, proves that nothing waited.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, startServer, type RunningServer } from './helpers/processes.js';
import { launchBrowser, screenshot } from './helpers/browser.js';

const KEY = secretKey();
/** Width × height of p1…p4, as the fixtures ask. */
const SIZES = [
  [640, 400],
  [512, 512],
  [400, 640],
  [768, 432],
];
let sim: VeniceSim;
let browser: Browser;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
  browser = await launchBrowser();
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await browser?.close();
  await sim.close();
});

interface Shown {
  placeholder: string | undefined;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

const shown = (page: Page): Promise<Shown[]> =>
  page.evaluate(() =>
    Array.from(document.images).map((img) => ({ placeholder: img.dataset.placeholder, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight })),
  );

/**
 * Polls the page (which the dev server may reload) until `ready` holds for what it shows. The
 * bound only ends a test that would otherwise hang; it is not what the test proves.
 */
async function waitForImages(page: Page, ready: (images: Shown[]) => boolean, boundMs = 45_000): Promise<Shown[]> {
  let last: Shown[] = [];
  for (let waited = 0; waited < boundMs; waited += 100) {
    // a reload in progress destroys the context the evaluation ran in: look again
    last = await shown(page).catch(() => []);
    if (last.length === 4 && last.every((image) => image.complete && image.naturalWidth > 0) && ready(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the page never got there; it shows ${JSON.stringify(last)}`);
}

const rightSizes = (images: Shown[]) => {
  // Astro's <Image> serves a WebP of the same size; the placeholder is drawn at the request's size
  const sizes = images.map((image) => [image.naturalWidth, image.naturalHeight]);
  return sizes.every(([w, h], i) => w === SIZES[i]![0] && h === SIZES[i]![1]);
};

let stopServer: (() => Promise<void>) | undefined;

/** A dev server on a fresh copy of the fixture; stopped after the test, so that no background work outlives it. */
async function devServer(fixture: string, args: string[], prepare?: (dir: string) => Promise<void>): Promise<{ server: RunningServer; dir: string }> {
  const dir = await copyFixture(fixture);
  cleanup.push(() => removeFixture(dir));
  await prepare?.(dir);
  const server = await startServer(args, { cwd: dir, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
  stopServer = server.stop;
  return { server, dir };
}

afterEach(async () => {
  await stopServer?.();
  stopServer = undefined;
});

describe.each([
  ['Vite', 'dev-vite', [binOf('vite', 'bin/vite.js'), '--strictPort']],
  ['Astro', 'dev-astro', [binOf('astro', 'bin/astro.mjs'), 'dev']],
] as const)('%s dev server with Venice holding every image request', (name, fixture, args) => {
  it('shows four placeholders of the right size while Venice has answered nothing, then the generated images, without a restart', async () => {
    sim.script({ clearRequests: true, latencyMs: 0, hold: true });
    const { server } = await devServer(fixture, [...args]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    const first = await waitForImages(page, (images) => images.every((image) => image.placeholder === 'true'));
    await screenshot(page, `dev-${fixture}-placeholders`);
    expect(rightSizes(first), JSON.stringify(first)).toBe(true);
    // the page is drawn while Venice holds the requests and has answered none: nothing waited for it
    expect(sim.imageRequests()).toHaveLength(0);
    expect(sim.heldRequests()).toBeGreaterThan(0);

    sim.script({ release: true });
    const generated = await waitForImages(page, (images) => images.every((image) => image.placeholder === 'false'));
    await screenshot(page, `dev-${fixture}-generated`);
    expect(rightSizes(generated), JSON.stringify(generated)).toBe(true);
    expect(sim.imageRequests().filter((r) => r.status === 200)).toHaveLength(4);
    const output = server.output();
    expect(output).toMatch(/p1\.imageprompt\.json: generating in the background/);
    expect(output).toMatch(/p1\.imageprompt\.json: generated in/);
    expect(output).not.toMatch(/server restarted/i);
    if (name === 'Vite') expect(console.filter((line) => /\[imageprompt\] .*the generated image has landed/.test(line)).length).toBeGreaterThanOrEqual(1);
    await page.close();
  }, 60_000);
});

describe('a chain in the Vite dev server', () => {
  it("shows the final step's placeholder at once, then the chain's last image once every step has landed", async () => {
    sim.script({ clearRequests: true, latencyMs: 0, hold: true });
    // 256×256, then upscaled 2×: the import is 512×512, as p2's place on the page expects
    const chain = JSON.stringify({ model: 'z-image-turbo', prompt: 'Dev server chain', width: 256, height: 256, then: [{ upscale: { scale: 2 } }] });
    const { server } = await devServer('dev-vite', [binOf('vite', 'bin/vite.js'), '--strictPort'], (d) => writeFile(join(d, 'src', 'p2.imageprompt.json'), chain));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    const first = await waitForImages(page, (images) => images.every((image) => image.placeholder === 'true'));
    expect(rightSizes(first), JSON.stringify(first)).toBe(true);
    expect(sim.imageRequests()).toHaveLength(0);
    sim.script({ release: true });
    const generated = await waitForImages(page, (images) => images.every((image) => image.placeholder === 'false'));
    expect(rightSizes(generated), JSON.stringify(generated)).toBe(true);
    const chainRequests = sim.imageRequests().filter((r) => r.path.endsWith('/image/upscale') || (r.body as { prompt?: string }).prompt === 'Dev server chain');
    expect(chainRequests.map((r) => r.path.replace('/api/v1/', ''))).toEqual(['image/generate', 'image/upscale']);
    await page.close();
  }, 60_000);
});

describe('editing a prompt file while its image is being generated', () => {
  it('pays for each request once and ends with the new image, never the stale one', async () => {
    const request = (prompt: string) => JSON.stringify({ model: 'z-image-turbo', prompt, width: 640, height: 400 });
    const { server, dir } = await devServer('dev-vite', [binOf('vite', 'bin/vite.js'), '--strictPort'], (d) =>
      writeFile(join(d, 'src', 'p1.imageprompt.json'), request('A picture edited while in flight')),
    );
    const file = join(dir, 'src', 'p1.imageprompt.json');
    const module = `${server.url}/@id/__x00__imageprompt:src/p1.imageprompt.json.js`;
    const read = async () => (await fetch(module)).text();
    // the old request answers slowly, the new one quickly: the old image lands after the new one
    sim.script({ clearRequests: true, latencyMs: 3000 });
    expect(await read()).toContain('placeholder = true');
    await new Promise((r) => setTimeout(r, 300));
    sim.script({ latencyMs: 200 });
    await writeFile(file, request('A picture edited while in flight, edited'));
    let code = '';
    for (let i = 0; i < 100 && !code.includes('placeholder = false'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = await read();
    }
    const newKey = /export const key = "([0-9a-f]+)"/.exec(code)![1];
    // the stale request lands now (it was sent 3 s before): it reaches the cache but is not shown
    await new Promise((r) => setTimeout(r, 3500));
    code = await read();
    expect(code).toContain('placeholder = false');
    expect(/export const key = "([0-9a-f]+)"/.exec(code)![1]).toBe(newKey);
    const prompts = sim.imageRequests().map((r) => (r.body as { prompt?: string }).prompt);
    expect(prompts.filter((p) => p === 'A picture edited while in flight')).toHaveLength(1);
    expect(prompts.filter((p) => p === 'A picture edited while in flight, edited')).toHaveLength(1);
    expect(server.output()).toMatch(/p1\.imageprompt\.json: generated in [\d.]+ s[\s\S]*p1\.imageprompt\.json: generated in [\d.]+ s/);
    // both were paid for, so both are kept
    const entries = (await readdir(join(dir, '.imageprompt', 'entries'))).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(2);
  }, 60_000);
});

describe('a generation that fails in the dev server', () => {
  it("shows Vite's error overlay with the terminal's text, and the placeholder stays", async () => {
    sim.script({ clearRequests: true, latencyMs: 500 });
    // Venice refuses this request (400): z-image-turbo takes no style references
    const refused = JSON.stringify({ model: 'z-image-turbo', prompt: 'refused', width: 640, height: 400, style_references: [{ image: 'aGk=' }] });
    const { server } = await devServer('dev-vite', [binOf('vite', 'bin/vite.js'), '--strictPort'], (d) => writeFile(join(d, 'src', 'p1.imageprompt.json'), refused));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    await waitForImages(page, (images) => images.slice(1).every((image) => image.placeholder === 'false'), 20_000);
    const overlay = page.locator('vite-error-overlay');
    await overlay.waitFor({ state: 'attached', timeout: 10_000 });
    const text = await overlay.evaluate((element) => element.shadowRoot?.textContent ?? '');
    await screenshot(page, 'dev-vite-generation-failed');
    expect(text).toMatch(/src\/p1\.imageprompt\.json: Venice answered 400: "z-image-turbo does not support style_references"/);
    expect(server.output()).toMatch(/src\/p1\.imageprompt\.json: failed: Venice answered 400: "z-image-turbo does not support style_references"/);
    const images = await shown(page);
    expect(images[0]).toMatchObject({ placeholder: 'true', naturalWidth: 640, naturalHeight: 400 });
    await page.close();
  }, 60_000);
});
