/**
 * webpack and Rspack in watch mode (what webpack-dev-server and Rspack's dev server run) never wait
 * for Venice: with Venice holding every answer, the first compilation finishes with placeholders of
 * the right size; when the images land, the watcher compiles again by itself and the bundle points at
 * the generated images. Order, not time, is what is asserted.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { silentLogger } from 'imageprompt';
import webpackPlugin from 'unplugin-imageprompt/webpack';
import rspackPlugin from 'unplugin-imageprompt/rspack';
import type { PromptImport } from './helpers/prompt-import.js';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

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
      // the compilation is over while Venice still holds every request: nothing waited for it
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
