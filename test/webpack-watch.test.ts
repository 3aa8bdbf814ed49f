/**
 * webpack and Rspack in watch mode (what webpack-dev-server and Rspack's dev server run) never wait
 * for Venice: with Venice holding every answer, the first compilation finishes with placeholders of
 * the right size; when the images land, the watcher compiles again by itself and the bundle points at
 * the generated images. Then the same through each dev server, seen in Chromium: the page shows the
 * placeholder at once and the generated image after the images land, without a restart. Order, not
 * time, is what is asserted.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { silentLogger } from 'imageprompt';
import webpackPlugin from 'unplugin-imageprompt/webpack';
import rspackPlugin from 'unplugin-imageprompt/rspack';
import type { PromptImport } from './helpers/prompt-import.js';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { launchBrowser, screenshot } from './helpers/browser.js';
import { freePort } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
const roots: string[] = [];

type Exports = { hero: PromptImport & { placeholder: boolean }; pears: PromptImport & { placeholder: boolean }; twin: PromptImport & { placeholder: boolean } };

interface Watching {
  close(callback: () => void): void;
}
interface WatchCompiler {
  watch(options: object, handler: (error: Error | null, stats?: { hasErrors(): boolean; toString(o: object): string }) => void): Watching;
}

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(async () => {
  sim.script({ release: true });
  await sim.close();
  await Promise.all(roots.map(removeFixture));
});

async function runBundle(file: string): Promise<Exports> {
  delete (globalThis as { __imageprompt?: unknown }).__imageprompt;
  await import(`${pathToFileURL(file).href}?t=${Date.now()}-${Math.random()}`);
  return (globalThis as unknown as { __imageprompt: Exports }).__imageprompt;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(['webpack', 'rspack'] as const)('%s in watch mode', (name) => {
  it('shows placeholders at once while Venice holds its answers, then compiles again with the generated images', async () => {
    const root = await copyFixture('bundler-app');
    roots.push(root);
    sim.script({ clearRequests: true, hold: true });
    const config = {
      mode: 'development' as const,
      devtool: false as const,
      context: root,
      entry: './src/main.js',
      output: { path: join(root, 'dist'), publicPath: '/static/', filename: 'main.js' },
      plugins: [name === 'webpack' ? webpackPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger }) : rspackPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger })],
    };
    const create = name === 'webpack' ? (await import('webpack')).default : (await import('@rspack/core')).rspack;
    const compiler = (create as unknown as (c: typeof config) => WatchCompiler)(config);
    const done: (() => void)[] = [];
    let compilations = 0;
    const errors: string[] = [];
    const watching = compiler.watch({}, (error, stats) => {
      if (error) errors.push(error.message);
      else if (stats?.hasErrors()) errors.push(stats.toString({ all: false, errors: true }));
      compilations += 1;
      done.shift()?.();
    });
    const nextCompilation = () => new Promise<void>((resolve) => done.push(resolve));
    try {
      await nextCompilation();
      expect(errors).toEqual([]);
      // the compilation is over before Venice answered anything (it holds every request until
      // released): nothing waited for it; the generations reach Venice meanwhile, on a slow machine
      // after the compilation ended (the bound only ends a test that would hang)
      expect(sim.imageRequests()).toHaveLength(0);
      for (let i = 0; i < 400 && sim.heldRequests() === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(sim.heldRequests()).toBeGreaterThan(0);
      const first = await runBundle(join(root, 'dist', 'main.js'));
      expect(first.hero).toMatchObject({ placeholder: true, width: 640, height: 400 });
      expect(first.pears.placeholder).toBe(true);

      sim.script({ release: true });
      // the watcher compiles again by itself once the images land
      let latest = first;
      for (let i = 0; i < 10 && (latest.hero.placeholder || latest.pears.placeholder || latest.twin.placeholder); i++) {
        await nextCompilation();
        latest = await runBundle(join(root, 'dist', 'main.js'));
      }
      expect(errors).toEqual([]);
      expect(compilations).toBeGreaterThan(1);
      expect([latest.hero.placeholder, latest.pears.placeholder, latest.twin.placeholder]).toEqual([false, false, false]);
      const blobs = new Set((await listFiles(join(root, '.imageprompt', 'blobs'))).map((f) => basename(f).split('.')[0]));
      const hero = await readFile(join(root, 'dist', latest.hero.src.slice('/static/'.length)));
      expect(blobs.has(sha256(hero))).toBe(true);
      // each request paid once
      expect(sim.imageRequests()).toHaveLength(2);
    } finally {
      sim.script({ release: true });
      await new Promise<void>((resolve) => watching.close(resolve));
    }
  });
});

interface DevServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

describe.each(['webpack-dev-server', 'Rspack dev server'] as const)('%s in Chromium', (name) => {
  it('shows the placeholder at once, and the generated image once it lands, without a restart', async () => {
    const root = await copyFixture('bundler-app');
    roots.push(root);
    await writeFile(join(root, 'index.html'), '<!doctype html><html><body><script src="/main.js"></script></body></html>\n');
    await writeFile(
      join(root, 'src', 'page.js'),
      "import hero from './hero.imageprompt.json';\nconst img = document.createElement('img');\nimg.src = hero.src;\nimg.dataset.placeholder = String(hero.placeholder);\ndocument.body.append(img);\n",
    );
    sim.script({ clearRequests: true, hold: true });
    const webpack = name === 'webpack-dev-server';
    const plugin = webpack ? webpackPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger }) : rspackPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    const config = { mode: 'development' as const, devtool: false as const, context: root, entry: './src/page.js', output: { path: join(root, 'dist'), publicPath: '/', filename: 'main.js' }, plugins: [plugin] };
    const compiler = webpack ? (await import('webpack')).default(config as never) : (await import('@rspack/core')).rspack(config as never);
    const port = await freePort();
    const options = { host: '127.0.0.1', port, hot: false, liveReload: true, static: { directory: root, watch: false }, client: { overlay: false, logging: 'none' as const } };
    const server: DevServer = webpack
      ? new (await import('webpack-dev-server')).default(options, compiler as never)
      : new (await import('@rspack/dev-server')).RspackDevServer(options as never, compiler as never);
    await server.start();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const image = async () =>
        page
          .evaluate(() => {
            const img = document.querySelector('img');
            return img && img.complete && img.naturalWidth > 0 ? { placeholder: img.dataset.placeholder, width: img.naturalWidth } : undefined;
          })
          .catch(() => undefined);
      let shown = await image();
      for (let i = 0; i < 300 && !shown; i++) shown = await new Promise((r) => setTimeout(r, 100)).then(image);
      // the page is up with its placeholder while Venice still holds the request
      expect(shown).toEqual({ placeholder: 'true', width: 640 });
      expect(sim.heldRequests()).toBeGreaterThan(0);
      await screenshot(page, `${webpack ? 'webpack' : 'rspack'}-dev-placeholder`);
      sim.script({ release: true });
      // the dev server reloads the page once the watcher compiled again with the image
      for (let i = 0; i < 450 && shown?.placeholder !== 'false'; i++) shown = await new Promise((r) => setTimeout(r, 100)).then(image);
      expect(shown).toEqual({ placeholder: 'false', width: 640 });
      await screenshot(page, `${webpack ? 'webpack' : 'rspack'}-dev-generated`);
    } finally {
      sim.script({ release: true });
      await browser.close();
      await server.stop();
    }
  });
});
