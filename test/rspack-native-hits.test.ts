/**
 * Rspack serves a hit this machine verified before as a native module, without a loader (see
 * core/emit/rspack-native-hits.ts): seen on each prompt module of a real Rspack build (its loaders,
 * from the compilation) and in what the build emits, which must be what the loader path emits.
 * Misses, `responsive` files and imports with directives still take the loader; a watching compiler
 * takes it for every file.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rspack } from '@rspack/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { silentLogger } from 'imageprompt';
import rspackPlugin from 'unplugin-imageprompt/rspack';
import type { PromptImport } from './helpers/prompt-import.js';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('bundler-app');
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

/** Each prompt module's path (with its query) and whether a loader built it, from the compilation. */
type Built = Record<string, 'loader' | 'native'>;

async function build(outDir: string): Promise<{ built: Built; exports: Record<string, PromptImport> }> {
  const built: Built = {};
  const probe = {
    apply(compiler: { hooks: { afterCompile: { tap(name: string, fn: (compilation: { modules: Iterable<{ resource?: string; loaders?: unknown[] }> }) => void): void } } }) {
      compiler.hooks.afterCompile.tap('probe', (compilation) => {
        for (const module of compilation.modules) {
          if (!module.resource?.includes('.imageprompt.json')) continue;
          built[module.resource.slice(root.length + 1)] = (module.loaders?.length ?? 0) > 0 ? 'loader' : 'native';
        }
      });
    },
  };
  const compiler = rspack({
    mode: 'production',
    context: root,
    entry: './src/main.js',
    output: { path: join(root, outDir), publicPath: '/static/', filename: 'main.js' },
    plugins: [rspackPlugin({ apiKey: KEY, baseURL: sim.url, logger: silentLogger }), probe],
  });
  await new Promise<void>((resolve, reject) =>
    compiler.run((error, stats) => compiler.close(() => (error || stats?.hasErrors() ? reject(error ?? new Error(stats!.toString({ all: false, errors: true }))) : resolve()))),
  );
  delete (globalThis as { __imageprompt?: unknown }).__imageprompt;
  await import(`${pathToFileURL(join(root, outDir, 'main.js')).href}?t=${Date.now()}`);
  return { built, exports: (globalThis as unknown as { __imageprompt: Record<string, PromptImport> }).__imageprompt };
}

/** Every emitted file under `outDir` with its bytes, by name. */
async function emitted(outDir: string): Promise<Map<string, Buffer>> {
  const files = await listFiles(join(root, outDir));
  return new Map(await Promise.all(files.map(async (file) => [file.slice(join(root, outDir).length + 1), await readFile(file)] as const)));
}

describe('Rspack', () => {
  it('builds verified hits natively: no loader, the same files and exports as the loader gave', async () => {
    const first = await build('dist-loader');
    // the first build generates: every prompt module through the loader
    expect(Object.values(first.built)).toEqual(['loader', 'loader', 'loader']);
    const second = await build('dist-native');
    expect(second.built).toEqual({ 'src/hero.imageprompt.json': 'native', 'src/pears.imageprompt.json': 'native', 'src/pictures/twin.imageprompt.json': 'native' });
    expect(second.exports).toEqual(first.exports);
    const [loaderFiles, nativeFiles] = [await emitted('dist-loader'), await emitted('dist-native')];
    expect([...nativeFiles.keys()].sort()).toEqual([...loaderFiles.keys()].sort());
    for (const [name, bytes] of nativeFiles) expect(bytes.equals(loaderFiles.get(name)!), name).toBe(true);
  });

  it('keeps the loader for an import with directives and for a file with "responsive", beside native hits', async () => {
    await build('dist-warm');
    const main = join(root, 'src', 'main.js');
    const hero = join(root, 'src', 'hero.imageprompt.json');
    const [originalMain, originalHero] = [await readFile(main, 'utf8'), await readFile(hero, 'utf8')];
    await writeFile(main, originalMain.replace('globalThis.__imageprompt = { hero, pears, twin };', "import small from './pictures/twin.imageprompt.json?w=160&imageprompt';\nglobalThis.__imageprompt = { hero, pears, twin, small };"));
    await writeFile(hero, JSON.stringify({ ...(JSON.parse(originalHero) as object), responsive: { widths: [160], formats: ['webp'] } }));
    try {
      await build('dist-responsive-first');
      const { built, exports } = await build('dist-mixed');
      expect(built).toEqual({
        'src/hero.imageprompt.json': 'loader',
        'src/pears.imageprompt.json': 'native',
        'src/pictures/twin.imageprompt.json': 'native',
        'src/pictures/twin.imageprompt.json?w=160&imageprompt': 'loader',
      });
      expect(exports.hero!.sources?.map((s) => s.type)).toEqual(['image/webp']);
      expect(exports.small!.srcset).toMatch(/twin-160w[-.][\w-]+\.webp 160w$/);
      // the same image, whichever way each import was built
      expect(exports.small!.src).toBe(exports.twin!.src);
    } finally {
      await writeFile(main, originalMain);
      await writeFile(hero, originalHero);
      await rm(join(root, 'dist-mixed'), { recursive: true, force: true });
    }
  });
});
