/**
 * The playgrounds as a person sees them, in Chromium: built sites served by their own preview
 * servers, and the Vite dev server picking up an edited prompt file without a restart.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, silentLogger, type Manifest } from 'imageprompt';
import { REPO_DIR, copyProject, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode, startServer, type RunningServer } from './helpers/processes.js';
import { launchBrowser, openPage, screenshot, shownImages } from './helpers/browser.js';

const KEY = secretKey();
const vite = binOf('vite', 'bin/vite.js');
const astro = binOf('astro', 'bin/astro.mjs');
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

const env = () => ({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url });

async function playground(name: 'vite' | 'astro'): Promise<string> {
  const dir = await copyProject(join(REPO_DIR, 'playground', name), `playground-${name}`);
  cleanup.push(() => removeFixture(dir));
  return dir;
}

async function serve(args: string[], cwd: string, serverEnv: Record<string, string | undefined> = env()): Promise<RunningServer> {
  const server = await startServer(args, { cwd, env: serverEnv });
  cleanup.push(() => server.stop());
  return server;
}

/** The pixel sizes of every image the cache holds for a project, as "W×H". */
async function manifestSizes(dir: string): Promise<Set<string>> {
  const files = (await listFiles(join(dir, '.imageprompt', 'entries'))).filter((f) => f.endsWith('.json'));
  const manifests = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest));
  return new Set(manifests.flatMap((m) => m.outputs.map((o) => `${o.width}×${o.height}`)));
}

/** The names emitted images start with: each prompt file's name, and `<name>-<n>` for variants. */
async function promptStems(dir: string): Promise<string[]> {
  const files = (await listFiles(join(dir, 'src'))).filter((f) => f.endsWith('.imageprompt.json'));
  return files.map((f) => basename(f).slice(0, -'.imageprompt.json'.length));
}

function namedAfter(src: string, stems: string[]): boolean {
  const name = basename(new URL(src).pathname);
  return stems.some((stem) => name.startsWith(stem) && /^(-\d+)?[.-]/.test(name.slice(stem.length)));
}

describe('playground/vite in Chromium', () => {
  it('shows every generated image at the size the manifest records, with no failed request', async () => {
    const dir = await playground('vite');
    const build = await runNode([vite, 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const preview = await serve([vite, 'preview', '--strictPort'], dir);
    const { page, failures } = await openPage(browser, `${preview.url}/`);
    const images = await shownImages(page);
    await screenshot(page, 'playground-vite');
    expect(images).toHaveLength(9);
    const sizes = await manifestSizes(dir);
    const stems = await promptStems(dir);
    for (const image of images) {
      expect(image.src).toMatch(/\/assets\/[\w-]+-[\w-]{8}\.(webp|png|jpg|avif)$/);
      expect(namedAfter(image.src, stems), `${image.src} is named after a prompt file`).toBe(true);
      expect(image.naturalWidth, image.src).toBeGreaterThan(0);
      // a responsive derivative (banner-960w-<hash>.avif) is as wide as its name says, in its source's proportions
      const derived = /-(\d+)w-[\w-]{8}\.\w+$/.exec(image.src);
      if (derived) {
        // (the page's naturalWidth is the width `sizes` gives it: the file says what it is)
        const file = await sharp(Buffer.from(await (await fetch(image.src)).arrayBuffer())).metadata();
        expect(file.width, image.src).toBe(Number(derived[1]));
        const ratio = file.width / file.height;
        const ratios = [...sizes].map((size) => size.split('×').map(Number)).map(([w, h]) => w! / h!);
        expect(ratios.some((r) => Math.abs(r - ratio) < 0.01), `${image.src} ratio ${ratio}`).toBe(true);
      } else expect(sizes.has(`${image.naturalWidth}×${image.naturalHeight}`), `${image.src} ${image.naturalWidth}×${image.naturalHeight}`).toBe(true);
    }
    expect(failures).toEqual([]);
  });

  it('shows the responsive banner as a <picture>: Chromium picks its AVIF source at the width each viewport needs', async () => {
    const dir = await playground('vite');
    const build = await runNode([vite, 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const preview = await serve([vite, 'preview', '--strictPort'], dir);
    const bannerShown = async (width: number) => {
      const { page, failures } = await openPage(browser, `${preview.url}/`, { width, height: 900 });
      await shownImages(page);
      await screenshot(page, `playground-vite-picture-${width}`);
      const shown = await page.evaluate(() => {
        const img = document.querySelector<HTMLImageElement>('picture img')!;
        return { currentSrc: img.currentSrc, sources: Array.from(document.querySelectorAll('picture source')).map((s) => s.getAttribute('type')) };
      });
      await page.close();
      expect(failures).toEqual([]);
      return shown;
    };
    // sizes "(max-width: 640px) 100vw, 640px": a 400-px phone needs 400 px (480w); a desktop 640 px (960w)
    const phone = await bannerShown(400);
    expect(phone.sources).toEqual(['image/avif', 'image/webp']);
    expect(phone.currentSrc).toMatch(/\/assets\/banner-480w-[\w-]{8}\.avif$/);
    const desktop = await bannerShown(1400);
    expect(desktop.currentSrc).toMatch(/\/assets\/banner-960w-[\w-]{8}\.avif$/);
    // what was picked is an AVIF file of that width
    for (const [shown, width] of [[phone, 480], [desktop, 960]] as const) {
      const file = await sharp(Buffer.from(await (await fetch(shown.currentSrc)).arrayBuffer())).metadata();
      expect([file.format, file.width]).toEqual(['heif', width]);
    }
  });
});

describe('playground/astro in Chromium', () => {
  it('shows <Image> and <Picture> output, optimised, in the manifest’s proportions', async () => {
    const dir = await playground('astro');
    const build = await runNode([astro, 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const preview = await serve([astro, 'preview'], dir);
    const { page, failures } = await openPage(browser, `${preview.url}/`);
    const images = await shownImages(page);
    await screenshot(page, 'playground-astro');
    expect(images).toHaveLength(9);
    const ratios = [...(await manifestSizes(dir))].map((size) => size.split('×').map(Number)).map(([w, h]) => w! / h!);
    const stems = await promptStems(dir);
    for (const image of images) {
      expect(image.src).toMatch(/\/_astro\/[\w-]+\.[\w-]+\.(webp|avif|jpg|png)$/);
      expect(namedAfter(image.src, stems), `${image.src} is named after a prompt file`).toBe(true);
      expect(image.naturalWidth).toBe(image.width);
      const ratio = image.naturalWidth / image.naturalHeight;
      expect(ratios.some((r) => Math.abs(r - ratio) < 0.01), `${image.src} ratio ${ratio}`).toBe(true);
    }
    // <Picture> chose one of the formats it offered
    expect(images.some((image) => /\.(avif|webp)$/.test(image.src) && image.width === 640)).toBe(true);
    expect(failures).toEqual([]);
  });
});

describe('Vite dev server in Chromium', () => {
  it('shows the new image after a prompt file is edited, without a restart', async () => {
    const dir = await playground('vite');
    // every image cached first, so that the page starts from the generated images
    const engine = new ImagePromptEngine({ root: dir, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    for (const file of (await listFiles(join(dir, 'src'))).filter((f) => f.endsWith('.imageprompt.json'))) await engine.load(file);
    const dev = await serve([vite, '--strictPort'], dir);
    const { page, failures } = await openPage(browser, `${dev.url}/`);
    await shownImages(page);
    const heroSrc = () => page.evaluate(() => document.querySelector('img')!.currentSrc);
    const before = await heroSrc();

    const file = join(dir, 'src', 'assets', 'hero.imageprompt.json');
    const prompt = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...prompt, prompt: 'A lighthouse on a rocky coast at dawn, pale pink sky' }, null, 2));

    // a placeholder first, then the generated image: wait for the image, whose bytes are a cache blob
    const blobs = async () => new Set((await listFiles(join(dir, '.imageprompt', 'blobs'))).map((f) => basename(f).split('.')[0]));
    let after = before;
    // the bound only ends a test that would hang; what it proves is the order: placeholder, then image
    for (let tries = 0; ; tries++) {
      if (tries > 300) throw new Error(`the generated image never showed; the page shows ${after}`);
      // the page reloads as the image lands: an evaluation may meet a page that is going away
      after = await heroSrc().catch(() => before);
      if (after !== before && /\/@imageprompt\//.test(after)) {
        const bytes = await fetch(after).then(async (r) => Buffer.from(await r.arrayBuffer()));
        if ((await blobs()).has(createHash('sha256').update(bytes).digest('hex'))) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const images = await shownImages(page);
    expect(images[0]!.naturalWidth).toBe(1024);
    await screenshot(page, 'playground-vite-dev-after-edit');
    expect(dev.output()).toContain('hero.imageprompt.json: generated in');
    // requests a reload cut short are not failures
    expect(failures.filter((f) => !/ERR_ABORTED/.test(f))).toEqual([]);
  });
});

describe('Vite dev server in Chromium without a key', () => {
  it('shows placeholders of the right size, and the terminal says why', async () => {
    const dir = await playground('vite');
    const dev = await serve([vite, '--strictPort'], dir, { VENICE_API_KEY: undefined, VENICE_BASE_URL: sim.url });
    sim.script({ clearRequests: true });
    const { page, failures } = await openPage(browser, `${dev.url}/`);
    const images = await shownImages(page);
    await screenshot(page, 'playground-vite-dev-no-key');
    expect(images).toHaveLength(9);
    expect([images[0]!.naturalWidth, images[0]!.naturalHeight]).toEqual([1024, 640]);
    // drawn placeholders, served by the plugin under the prompt files' names; the responsive banner's
    // placeholder comes in its sizes too, and the browser picks its AVIF
    expect(images.every((image) => /\/@imageprompt\/[\w-]+-[0-9a-f]{16}\.(webp|png|jpg|avif)$/.test(image.src))).toBe(true);
    expect(images.some((image) => /\/@imageprompt\/banner-960w-[0-9a-f]{16}\.avif$/.test(image.src))).toBe(true);
    expect(dev.output()).toMatch(/src\/assets\/hero\.imageprompt\.json: PLACEHOLDER \(not in the cache; no VENICE_API_KEY is set\)/);
    expect(sim.imageRequests()).toHaveLength(0);
    expect(failures).toEqual([]);
  });
});

describe('blur-up placeholders in Chromium', () => {
  it.each([
    ['vite', [vite, 'build'], [vite, 'preview', '--strictPort'], /\/assets\/[^/]+\.(webp|png|jpg|avif)$/],
    ['astro', [astro, 'build'], [astro, 'preview'], /\/_astro\/[^/]+\.(webp|avif|png|jpg)$/],
  ] as const)('playground/%s shows each image’s blurred copy while the image is held back, then the image', async (name, buildArgs, previewArgs, images) => {
    const dir = await playground(name);
    const build = await runNode([...buildArgs], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const preview = await serve([...previewArgs], dir);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(images, async (route) => {
      await released;
      await route.continue();
    });
    await page.goto(`${preview.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.images.length === 9);
    const before = await page.evaluate(() =>
      Array.from(document.images).map((img) => ({ background: getComputedStyle(img).backgroundImage, loaded: img.complete && img.naturalWidth > 0 })),
    );
    await screenshot(page, `playground-${name}-blur-up`);
    for (const image of before) {
      expect(image.loaded).toBe(false);
      expect(image.background).toMatch(/^url\("data:image\/webp;base64,[A-Za-z0-9+/=]+"\)$/);
    }
    release();
    const shown = await shownImages(page);
    expect(shown.every((image) => image.naturalWidth > 0)).toBe(true);
    await page.close();
  });
});
