/**
 * Every bundler entry builds a fixture project with only the plugin added: Rollup, Rolldown,
 * webpack, Rspack, esbuild and Farm (Vite and Astro have their own files). Each build is real, against the
 * local Venice-compatible server; then a second build with Venice unreachable must emit the same files.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { silentLogger } from 'imageprompt';
import type { Options } from 'unplugin-imageprompt';
import rollupPlugin from 'unplugin-imageprompt/rollup';
import rolldownPlugin from 'unplugin-imageprompt/rolldown';
import webpackPlugin from 'unplugin-imageprompt/webpack';
import rspackPlugin from 'unplugin-imageprompt/rspack';
import esbuildPlugin from 'unplugin-imageprompt/esbuild';
import farmPlugin from 'unplugin-imageprompt/farm';
import type { PromptImport } from './helpers/prompt-import.js';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { freePort } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
const roots: string[] = [];

type Shown = PromptImport;
type Exports = { hero: Shown; pears: Shown; twin: Shown };

/** One bundler: builds `root` into `outDir` and says where a module's `src` points on disk. */
interface Bundler {
  name: string;
  /** `assetNames`: the bundler's own asset-naming setting, in its own syntax, to prove it is respected. */
  build(root: string, outDir: string, options: Options, assetNames?: string): Promise<void>;
  /** A naming pattern in this bundler's syntax that puts images under `img/` as `<name>.<hash>.<ext>`. */
  imgPattern: string;
  /** The emitted file a `src` from the bundle names. */
  fileOf(src: string, outDir: string): string;
  /** The bundle's JavaScript file. */
  script: string;
  /**
   * Whether two prompt files with equal bytes share one emitted file. Rollup and Rolldown dedupe
   * assets by content; webpack and esbuild name each file after its own prompt file, as they do for
   * their own asset modules, so that names never depend on load order.
   */
  sharesEqualBytes: boolean;
}

const byUrlFromScript = (src: string) => fileURLToPath(src);
const byPublicPath = (prefix: string) => (src: string, outDir: string) => join(outDir, src.slice(prefix.length));

function webpackLike(name: 'webpack' | 'rspack'): Bundler {
  return {
    name,
    script: 'main.js',
    sharesEqualBytes: false,
    fileOf: byPublicPath('/static/'),
    imgPattern: 'img/[name].[contenthash:6][ext]',
    async build(root, outDir, options, assetNames) {
      const config = {
        mode: 'production' as const,
        context: root,
        entry: './src/main.js',
        output: { path: join(root, outDir), publicPath: '/static/', filename: 'main.js', ...(assetNames ? { assetModuleFilename: assetNames } : {}) },
        plugins: [name === 'webpack' ? webpackPlugin(options) : rspackPlugin(options)],
      };
      const compile = name === 'webpack' ? (await import('webpack')).default : (await import('@rspack/core')).rspack;
      await new Promise<void>((resolve, reject) => {
        const compiler = (compile as unknown as (c: typeof config) => WebpackLikeCompiler)(config);
        compiler.run((error, stats) => {
          compiler.close(() => {
            if (error) reject(error);
            else if (stats?.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true })));
            else resolve();
          });
        });
      });
    },
  };
}
function rollupLike(name: 'rollup' | 'rolldown'): Bundler {
  return {
    name,
    script: 'main.js',
    sharesEqualBytes: true,
    fileOf: byUrlFromScript,
    imgPattern: 'img/[name].[hash][extname]',
    async build(root, outDir, options, assetNames) {
      // Rollup has no project root of its own: the plugin takes the working directory unless told;
      // Rolldown's is its `cwd`
      const bundle =
        name === 'rollup'
          ? await (await import('rollup')).rollup({ input: join(root, 'src/main.js'), plugins: [rollupPlugin({ ...options, root })] })
          : await (await import('rolldown')).rolldown({ cwd: root, input: 'src/main.js', plugins: [rolldownPlugin(options)] });
      await bundle.write({ dir: join(root, outDir), format: 'es', ...(assetNames ? { assetFileNames: assetNames } : {}) });
      await bundle.close();
    },
  };
}

interface WebpackLikeCompiler {
  run(callback: (error: Error | null, stats?: { hasErrors(): boolean; toString(o: object): string }) => void): void;
  close(callback: () => void): void;
}

const BUNDLERS: Bundler[] = [
  rollupLike('rollup'),
  rollupLike('rolldown'),
  webpackLike('webpack'),
  webpackLike('rspack'),
  {
    name: 'esbuild',
    script: 'main.js',
    sharesEqualBytes: false,
    fileOf: (src, outDir) => join(outDir, src),
    imgPattern: 'img/[name].[hash]',
    async build(root, outDir, options, assetNames) {
      const { build } = await import('esbuild');
      await build({
        absWorkingDir: root,
        entryPoints: ['src/main.js'],
        bundle: true,
        format: 'esm',
        outdir: outDir,
        logLevel: 'silent',
        plugins: [esbuildPlugin(options)],
        ...(assetNames ? { assetNames } : {}),
      });
    },
  },
  {
    name: 'farm',
    script: 'main.js',
    sharesEqualBytes: false,
    fileOf: byPublicPath('/static/'),
    imgPattern: 'img/[resourceName].[contentHash].[ext]',
    async build(root, outDir, options, assetNames) {
      const { build, NoopLogger } = await import('@farmfe/core');
      await build({
        root,
        clearScreen: false,
        logger: new NoopLogger(),
        compilation: {
          input: { main: './src/main.js' },
          output: { path: outDir, publicPath: '/static/', targetEnv: 'node', format: 'esm', filename: '[entryName].js', ...(assetNames ? { assetsFilename: assetNames } : {}) },
          // Farm's persistent cache stays on, as it is by default
          presetEnv: false,
        },
        plugins: [farmPlugin(options)],
      });
    },
  },
];

async function runBundle(file: string): Promise<Exports> {
  delete (globalThis as { __imageprompt?: unknown }).__imageprompt;
  await import(`${pathToFileURL(file).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: Exports }).__imageprompt;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(async () => {
  await sim.close();
  await Promise.all(roots.map(removeFixture));
});

describe.each(BUNDLERS)('$name entry, with no other plugin, loader or rule', (bundler) => {
  let root: string;
  let first: Exports;

  beforeAll(async () => {
    root = await copyFixture('bundler-app');
    roots.push(root);
  });

  it('emits the cached bytes under the prompt file names, and the bundle points at them', async () => {
    const before = sim.imageRequests().length;
    await bundler.build(root, 'dist', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    // hero and twin are one request: two calls in all, one emitted file for both
    expect(sim.imageRequests().length - before).toBe(2);
    const outDir = join(root, 'dist');
    first = await runBundle(join(outDir, bundler.script));
    expect(first.hero).toMatchObject({ width: 640, height: 400, format: 'webp', alt: 'A lighthouse at dusk' });
    expect(first.twin.alt).toBe('The same request as hero');
    expect(first.pears.variants).toHaveLength(2);

    const blobs = new Map((await listFiles(join(root, '.imageprompt', 'blobs'))).map((f) => [basename(f).split('.')[0]!, f]));
    const shown = [first.hero, ...first.pears.variants];
    const files = shown.map((image) => bundler.fileOf(image.src, outDir));
    expect(files.map((f) => basename(f))).toEqual([
      // each bundler's default pattern: `hero-<hash>`, or `hero.<hash>` in Farm
      expect.stringMatching(/^hero[-.][\w-]+\.webp$/),
      expect.stringMatching(/^pears-1[-.][\w-]+\.png$/),
      expect.stringMatching(/^pears-2[-.][\w-]+\.png$/),
    ]);
    for (const file of files) {
      const bytes = await readFile(file);
      expect(blobs.has(sha256(bytes)), `${relative(root, file)} holds a cached blob's bytes`).toBe(true);
    }
    const twin = bundler.fileOf(first.twin.src, outDir);
    if (bundler.sharesEqualBytes) expect(twin).toBe(files[0]);
    else {
      expect(basename(twin)).toMatch(/^twin[-.][\w-]+\.webp$/);
      await expect(readFile(twin)).resolves.toEqual(await readFile(files[0]!));
      files.push(twin);
    }
    const images = (await listFiles(outDir)).filter((f) => /\.(webp|png)$/.test(f));
    expect(images.sort()).toEqual([...new Set(files)].sort());
    // the bundle names the emitted files and no path of the machine
    const code = await readFile(join(outDir, bundler.script), 'utf8');
    for (const file of files) expect(code).toContain(basename(file));
    expect(code).not.toContain(join(root, '.imageprompt'));
    // no emitted file carries a path of this machine or a NUL byte (a virtual id's marker)
    for (const file of await listFiles(outDir)) {
      const bytes = await readFile(file);
      expect(bytes.includes(root), `${relative(root, file)} names the build machine's path`).toBe(false);
      if (/\.(js|map|json|html)$/.test(file)) expect(bytes.includes(0), `${relative(root, file)} holds a NUL byte`).toBe(false);
    }
  });

  it('emits the same files with Venice unreachable, from the cache', async () => {
    const before = sim.imageRequests().length;
    await bundler.build(root, 'dist-offline', { apiKey: KEY, baseURL: `http://127.0.0.1:${await freePort()}/api/v1`, logger: silentLogger });
    expect(sim.imageRequests().length).toBe(before);
    const again = await runBundle(join(root, 'dist-offline', bundler.script));
    const names = (exports: Exports, outDir: string) => [exports.hero, exports.twin, ...exports.pears.variants].map((i) => basename(bundler.fileOf(i.src, join(root, outDir))));
    expect(names(again, 'dist-offline')).toEqual(names(first, 'dist'));
  });

  it("respects the bundler's own asset-naming setting", async () => {
    await bundler.build(root, 'dist-named', { apiKey: KEY, baseURL: sim.url, logger: silentLogger }, bundler.imgPattern);
    const outDir = join(root, 'dist-named');
    const named = await runBundle(join(outDir, bundler.script));
    const files = [named.hero, ...named.pears.variants].map((image) => relative(outDir, bundler.fileOf(image.src, outDir)));
    expect(files).toEqual([expect.stringMatching(/^img\/hero\.[\w-]+\.webp$/), expect.stringMatching(/^img\/pears-1\.[\w-]+\.png$/), expect.stringMatching(/^img\/pears-2\.[\w-]+\.png$/)]);
    for (const file of files) await expect(readFile(join(outDir, file))).resolves.toBeInstanceOf(Buffer);
  });

  it('emits the responsive derivatives a prompt file asks for, with srcset and sources, and encodes nothing again on a rebuild', async () => {
    const hero = join(root, 'src', 'hero.imageprompt.json');
    const original = await readFile(hero, 'utf8');
    // the hero is 640 px wide: 1200 is left out, never upscaled
    await writeFile(hero, JSON.stringify({ ...(JSON.parse(original) as object), responsive: { widths: [320, 160, 1200], formats: ['avif', 'webp'] } }));
    try {
      const before = sim.imageRequests().length;
      await bundler.build(root, 'dist-responsive', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      expect(sim.imageRequests().length, 'responsive sizes are not a new request').toBe(before);
      const outDir = join(root, 'dist-responsive');
      const shown = await runBundle(join(outDir, bundler.script));
      expect(shown.hero.sources?.map((s) => s.type)).toEqual(['image/avif', 'image/webp']);
      // srcset in the image's own format (WebP is listed), widths ascending
      expect(shown.hero.srcset).toBe(shown.hero.sources![1]!.srcset);
      for (const [i, format] of [[0, 'heif'], [1, 'webp']] as const) {
        const entries = shown.hero.sources![i]!.srcset.split(', ').map((entry) => entry.split(' '));
        expect(entries.map(([, w]) => w)).toEqual(['160w', '320w']);
        for (const [src, w] of entries) {
          const file = bundler.fileOf(src!, outDir);
          expect(basename(file)).toMatch(new RegExp(`^hero-${w}[-.][\\w-]+\\.${i === 0 ? 'avif' : 'webp'}$`));
          const meta = await sharp(await readFile(file)).metadata();
          expect([meta.format, `${meta.width}w`, meta.height]).toEqual([format, w, Number(w!.slice(0, -1)) * 400 / 640]);
        }
      }
      // a second build finds every derivative made: none is written again
      const derivatives = join(root, 'node_modules', '.cache', 'imageprompt', 'derivatives');
      const stamps = async () => Object.fromEntries(await Promise.all((await listFiles(derivatives)).map(async (f) => [f, (await stat(f)).mtimeMs])));
      const first = await stamps();
      expect(Object.keys(first)).toHaveLength(4);
      await bundler.build(root, 'dist-responsive-again', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      expect(await stamps()).toEqual(first);
    } finally {
      await writeFile(hero, original);
    }
  });

  it('imports a chain and an edit of a committed photo as their last step, paying each step once', async () => {
    const main = join(root, 'src', 'main.js');
    const original = await readFile(main, 'utf8');
    await mkdir(join(root, 'src', 'photos'), { recursive: true });
    await writeFile(join(root, 'src', 'photos', 'team.jpg'), await sharp({ create: { width: 512, height: 384, channels: 3, background: '#4070a0' } }).jpeg().toBuffer());
    await writeFile(join(root, 'src', 'mug.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: `a mug for ${bundler.name}`, width: 256, height: 256, then: [{ remove_background: true }, { upscale: { scale: 2 } }] }));
    await writeFile(join(root, 'src', 'team.imageprompt.json'), JSON.stringify({ api: 'edit', image: './photos/team.jpg', prompt: `a sunset for ${bundler.name}` }));
    await writeFile(main, original.replace('globalThis.__imageprompt = { hero, pears, twin };', "import mug from './mug.imageprompt.json';\nimport team from './team.imageprompt.json';\nglobalThis.__imageprompt = { hero, pears, twin, mug, team };"));
    try {
      const before = sim.imageRequests().length;
      await bundler.build(root, 'dist-steps', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      // (the other prompt files are generated here too when this test runs alone)
      const ours = sim.imageRequests().slice(before).filter((r) => !r.path.endsWith('/image/generate') || String((r.body as { prompt?: string }).prompt).startsWith('a mug'));
      // the chain's steps in order; the edit runs beside them
      const paths = ours.map((r) => r.path.replace('/api/v1/', ''));
      expect(paths.filter((p) => p !== 'image/edit')).toEqual(['image/generate', 'image/background-remove', 'image/upscale']);
      expect(paths.filter((p) => p === 'image/edit')).toHaveLength(1);
      const outDir = join(root, 'dist-steps');
      const shown = (await runBundle(join(outDir, bundler.script))) as Exports & { mug: Shown & { key: string; steps: { route: string }[] }; team: Shown & { key: string; steps: { route: string }[] } };
      expect(shown.mug).toMatchObject({ width: 512, height: 512, format: 'png' });
      expect(shown.mug.steps.map((step) => step.route)).toEqual(['image/generate', 'image/background-remove', 'image/upscale']);
      expect(shown.team.steps.map((step) => step.route)).toEqual(['image/edit']);
      for (const image of [shown.mug, shown.team]) {
        const file = bundler.fileOf(image.src, outDir);
        expect(basename(file)).toMatch(/^(mug|team)[-.][\w-]+\.png$/);
        await expect(sharp(await readFile(file)).metadata()).resolves.toMatchObject({ width: image.width, height: image.height });
      }
      // again, with Venice unreachable: every step from the cache
      await bundler.build(root, 'dist-steps-offline', { apiKey: KEY, baseURL: `http://127.0.0.1:${await freePort()}/api/v1`, logger: silentLogger });
      const again = (await runBundle(join(root, 'dist-steps-offline', bundler.script))) as typeof shown;
      expect([again.mug.key, again.team.key]).toEqual([shown.mug.key, shown.team.key]);
    } finally {
      await writeFile(main, original);
    }
  });

  it("takes an import's own widths and formats from its query, beside the plain import", async () => {
    const main = join(root, 'src', 'main.js');
    const original = await readFile(main, 'utf8');
    await writeFile(
      main,
      original.replace(
        'globalThis.__imageprompt = { hero, pears, twin };',
        "import small from './hero.imageprompt.json?imageprompt&w=160&format=webp';\nimport typed from './hero.imageprompt.json?w=320&imageprompt';\nglobalThis.__imageprompt = { hero, pears, twin, small, typed };",
      ),
    );
    try {
      await bundler.build(root, 'dist-directives', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      const shown = (await runBundle(join(root, 'dist-directives', bundler.script))) as Exports & { small: Shown; typed: Shown };
      expect(shown.hero.sources).toBeUndefined();
      expect(shown.small.sources?.map((s) => s.type)).toEqual(['image/webp']);
      expect(shown.small.srcset).toMatch(/hero-160w[-.][\w-]+\.webp 160w$/);
      expect(shown.typed.sources?.map((s) => s.type)).toEqual(['image/avif', 'image/webp']);
      expect(shown.typed.sources?.[0]?.srcset).toMatch(/hero-320w[-.][\w-]+\.avif 320w$/);
      expect(shown.small.src).toBe(shown.hero.src);
      // an import with a query and no plain import of its file: its files are in the output too, not
      // only named (Farm's persistent cache left out every file of a module with a query)
      await writeFile(main, `import alone from './pears.imageprompt.json?imageprompt&w=160';\nglobalThis.__imageprompt = { alone };\n`);
      await bundler.build(root, 'dist-directives-alone', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      const alone = ((await runBundle(join(root, 'dist-directives-alone', bundler.script))) as unknown as { alone: Shown }).alone;
      const named = [alone.src, ...alone.sources!.flatMap((s) => s.srcset.split(', ').map((entry) => entry.split(' ')[0]!))];
      expect(named).toHaveLength(3);
      for (const src of named) await expect(readFile(bundler.fileOf(src, join(root, 'dist-directives-alone'))), src).resolves.toBeInstanceOf(Buffer);
      // a directive it does not know is an error naming it, not a silent default
      await writeFile(main, `import bad from './hero.imageprompt.json?imageprompt&width=160';\nglobalThis.__imageprompt = { bad };\n`);
      const failed = await bundler.build(root, 'dist-directives-bad', { apiKey: KEY, baseURL: sim.url, logger: silentLogger }).then(() => undefined, (e: unknown) => e as Error);
      // (Farm quotes the message it was given, escaping its quotes)
      expect(failed?.message).toMatch(/hero\.imageprompt\.json[\s\S]*the import's \\?"width\\?" is not a directive imageprompt knows[\s\S]*did you mean \\?"w\\?"/);
    } finally {
      await writeFile(main, original);
    }
  });

  it("gives the first image's URL alone with ?imageprompt&url, and the bundle carries nothing else of the file", async () => {
    const main = join(root, 'src', 'main.js');
    const original = await readFile(main, 'utf8');
    // the flag on either side of the directive: the query is read, not matched as a string
    await writeFile(main, "import hero from './hero.imageprompt.json?imageprompt&url';\nimport pears from './pears.imageprompt.json?url&imageprompt';\nglobalThis.__imageprompt = { hero, pears };\n");
    try {
      const before = sim.imageRequests().length;
      await bundler.build(root, 'dist-url', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      expect(sim.imageRequests().length, 'the same requests, from the cache').toBe(before);
      const outDir = join(root, 'dist-url');
      const shown = (await runBundle(join(outDir, bundler.script))) as unknown as { hero: string; pears: string };
      expect(typeof shown.hero).toBe('string');
      // the same file the object import names, with the same name
      expect(basename(bundler.fileOf(shown.hero, outDir))).toBe(basename(bundler.fileOf(first.hero.src, join(root, 'dist'))));
      expect(basename(bundler.fileOf(shown.pears, outDir))).toBe(basename(bundler.fileOf(first.pears.variants[0]!.src, join(root, 'dist'))));
      // the first of the pears is emitted, the second is no import's and is not
      const images = (await listFiles(outDir)).filter((f) => /\.(webp|png)$/.test(f));
      expect(images.map((f) => basename(f)).sort()).toEqual([basename(bundler.fileOf(shown.hero, outDir)), basename(bundler.fileOf(shown.pears, outDir))].sort());
      await expect(readFile(bundler.fileOf(shown.pears, outDir))).resolves.toEqual(await readFile(bundler.fileOf(first.pears.variants[0]!.src, join(root, 'dist'))));
      const code = await readFile(join(outDir, bundler.script), 'utf8');
      for (const field of ['blurDataURL', 'thumbhash', 'variants', first.hero.key]) expect(code).not.toContain(field);
      // the URL with responsive sizes asks for two things at once: an error that names both
      await writeFile(main, "import both from './hero.imageprompt.json?imageprompt&url&w=160';\nglobalThis.__imageprompt = { both };\n");
      const failed = await bundler.build(root, 'dist-url-bad', { apiKey: KEY, baseURL: sim.url, logger: silentLogger }).then(() => undefined, (e: unknown) => e as Error);
      expect(failed?.message).toMatch(/hero\.imageprompt\.json[\s\S]*asks for the URL alone \(url\) and for responsive sizes \(w\)/);
    } finally {
      await writeFile(main, original);
    }
  });

  it('refuses an unknown option with a suggestion, before anything is called', async () => {
    const before = sim.imageRequests().length;
    for (const [typo, meant] of [
      ['maxSpendUSD', 'maxSpendUsd'],
      ['concurency', 'concurrency'],
    ] as const) {
      const failed = bundler.build(root, 'dist-typo', { apiKey: KEY, baseURL: sim.url, logger: silentLogger, [typo]: 0 } as Options);
      await expect(failed).rejects.toThrow(new RegExp(`field "${typo}": is not an imageprompt option[\\s\\S]*did you mean "${meant}"`));
    }
    expect(sim.imageRequests().length).toBe(before);
  });

  it('fails the build with the file, the field and the fix for a bad prompt file, and calls nothing', async () => {
    const bad = join(root, 'src', 'pictures', 'twin.imageprompt.json');
    const good = await readFile(bad, 'utf8');
    await writeFile(bad, JSON.stringify({ ...(JSON.parse(good) as object), width: 'wide' }));
    const before = sim.imageRequests().length;
    try {
      const failed = bundler.build(root, 'dist-bad', { apiKey: KEY, baseURL: sim.url, logger: silentLogger });
      const error = await failed.then(() => undefined, (e: unknown) => e as Error);
      expect(error?.message).toMatch(/twin\.imageprompt\.json[\s\S]*width/);
      // ids shown to people are relative to the root, with no NUL byte of a virtual id in them
      expect(error?.message).not.toContain('\0');
      expect(error?.message).not.toContain(root);
      expect(sim.imageRequests().length).toBe(before);
    } finally {
      await writeFile(bad, good);
    }
  });
});

describe('farm entry with its persistent cache', () => {
  it('emits every image again when the cache restores the modules that emitted them', async () => {
    const root = await copyFixture('bundler-app');
    roots.push(root);
    const farm = BUNDLERS.find((b) => b.name === 'farm')!;
    const options = { apiKey: KEY, baseURL: sim.url, logger: silentLogger };
    await farm.build(root, 'dist', options);
    await farm.build(root, 'dist', options);
    const outDir = join(root, 'dist');
    const shown = await runBundle(join(outDir, farm.script));
    for (const image of [shown.hero, shown.twin, ...shown.pears.variants]) {
      await expect(readFile(farm.fileOf(image.src, outDir)), image.src).resolves.toBeInstanceOf(Buffer);
    }
  });
});

describe.each(['rollup', 'rolldown'] as const)('%s in watch mode', (name) => {
  it('builds an import again when its prompt file is edited, with or without a query', async () => {
    const root = await copyFixture('bundler-app');
    roots.push(root);
    const main = join(root, 'src', 'main.js');
    // the plain import, and one with a query: an id the bundler's own watcher does not tie to the file
    await writeFile(main, "import hero from './hero.imageprompt.json';\nimport small from './hero.imageprompt.json?imageprompt&w=160';\nglobalThis.__imageprompt = { hero, small };\n");
    const options = { apiKey: KEY, baseURL: sim.url, logger: silentLogger };
    const ends: (() => void)[] = [];
    const errors: string[] = [];
    /** A build ended (or failed): its result is closed, and whoever waits for it goes on. */
    const onEvent = (event: { code: string; error?: { message: string }; result?: { close(): unknown } | null }) => {
      if (event.code !== 'BUNDLE_END' && event.code !== 'ERROR') return;
      if (event.code === 'ERROR') errors.push(event.error?.message ?? 'error');
      void event.result?.close();
      ends.shift()?.();
    };
    const output = { dir: join(root, 'dist'), format: 'es' as const };
    const watcher =
      name === 'rollup'
        ? (await import('rollup')).watch({ input: main, plugins: [rollupPlugin({ ...options, root })], output })
        : (await import('rolldown')).watch({ cwd: root, input: 'src/main.js', plugins: [rolldownPlugin(options)], output, logLevel: 'silent' });
    watcher.on('event', onEvent);
    const nextBuild = () => new Promise<void>((resolve) => ends.push(resolve));
    // the same file, written again: a query of its own per read (Vite's module runner drops `?t=`)
    let reads = 0;
    const latestBundle = async () => {
      delete (globalThis as { __imageprompt?: unknown }).__imageprompt;
      await import(`${pathToFileURL(join(root, 'dist', 'main.js')).href}?read=${++reads}`);
      return (globalThis as unknown as { __imageprompt: Record<'hero' | 'small', Shown> }).__imageprompt;
    };
    try {
      await nextBuild();
      expect(errors).toEqual([]);
      const first = await latestBundle();
      const requests = sim.imageRequests().length;
      const hero = join(root, 'src', 'hero.imageprompt.json');
      const rebuilt = nextBuild().then(() => 'built again' as const);
      const edited = JSON.stringify({ ...JSON.parse(await readFile(hero, 'utf8')), prompt: `a lighthouse in fog, watched by ${name}` });
      // the same edit written again every few seconds, in case a watcher was still starting (its
      // bytes, and so its key, are the same each time); five tries only end a test that would hang
      let outcome: 'built again' | 'missed' = 'missed';
      for (let attempt = 0; attempt < 5 && outcome === 'missed'; attempt++) {
        await writeFile(hero, edited);
        outcome = await Promise.race([rebuilt, new Promise<'missed'>((resolve) => setTimeout(() => resolve('missed'), 4_000).unref())]);
      }
      expect(outcome).toBe('built again');
      expect(errors).toEqual([]);
      const second = await latestBundle();
      expect(second.hero.key).not.toBe(first.hero.key);
      expect(second.small.key).toBe(second.hero.key);
      expect(sim.imageRequests().length).toBe(requests + 1);
    } finally {
      await watcher.close();
    }
  });
});
