/** Generated fixture projects for the benchmarks, written under bench/.work (ignored by git). */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const WORK = new URL('./.work/', import.meta.url).pathname;

export function freshDir(name) {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  return dir;
}

export const promptOf = (i) => ({ model: 'z-image-turbo', prompt: `benchmark image number ${i}`, width: 64, height: 64, seed: i });

/** A prompt for an image as large as a real one: the simulator adds photographic grain (about 200 KB at 1024×640). */
export const realisticPromptOf = (i) => ({ model: 'z-image-turbo', prompt: `benchmark photograph number ${i} [sim:grain]`, width: 1024, height: 640, seed: i });

/**
 * A Vite app importing N prompt files (kind "prompt", or "prompt-nometa" with `metadata: false`, or
 * "url": each imported for its URL alone, `?imageprompt&url`) or N image files (kind "direct"), or the
 * floor: the plugin in the config and N image files imported directly (kind "floor"), which is what
 * loading the plugin costs before any prompt file.
 */
export function viteProject(name, n, kind, blobs = [], prompt = promptOf) {
  const dir = freshDir(name);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><body><script type="module" src="/src/main.js"></script></body></html>\n');
  const prompts = kind !== 'direct';
  const plugin = prompts ? "import imageprompt from 'unplugin-imageprompt/vite';\n" : '';
  const metadata = kind === 'prompt-nometa' ? 'metadata: false, ' : '';
  writeFileSync(
    join(dir, 'vite.config.mjs'),
    `import { defineConfig } from 'vite';\n${plugin}export default defineConfig({ logLevel: 'warn', ${prompts ? `plugins: [imageprompt({ ${metadata}logger: { info() {}, warn: console.warn, error: console.error } })], ` : ''}build: { assetsInlineLimit: 0 } });\n`,
  );
  writeEntry(dir, n, prompts && kind !== 'floor', blobs, kind === 'url' ? URL_QUERY : '?imageprompt', prompt);
  return dir;
}

/** The import of a prompt file's URL alone, which is what an image file's import gives. */
const URL_QUERY = '?imageprompt&url';

/**
 * src/main.js importing N prompt files p0…p(n-1) (written beside it) or N image files (copied from
 * `blobs`), and putting their URLs in `globalThis.images`.
 */
function writeEntry(dir, n, prompts, blobs, query, prompt = promptOf) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    if (prompts) {
      writeFileSync(join(dir, 'src', `p${i}.imageprompt.json`), JSON.stringify(prompt(i)));
      lines.push(`import p${i} from './p${i}.imageprompt.json${query}';`);
    } else {
      copyFileSync(blobs[i], join(dir, 'src', `p${i}.webp`));
      lines.push(`import p${i} from './p${i}.webp';`);
    }
  }
  const value = prompts && query !== URL_QUERY ? (i) => `p${i}.src` : (i) => `p${i}`;
  lines.push(`globalThis.images = [${Array.from({ length: n }, (_, i) => value(i)).join(', ')}];`);
  writeFileSync(join(dir, 'src', 'main.js'), `${lines.join('\n')}\n`);
}

/** An Astro site rendering N images through <Image>, from prompt files or from image files. */
export function astroProject(name, n, kind, blobs = []) {
  const dir = freshDir(name);
  mkdirSync(join(dir, 'src', 'pages'), { recursive: true });
  mkdirSync(join(dir, 'src', 'assets'), { recursive: true });
  const integration = kind === 'prompt' ? "import imageprompt from 'unplugin-imageprompt/astro';\n" : '';
  writeFileSync(
    join(dir, 'astro.config.mjs'),
    `import { defineConfig } from 'astro/config';\n${integration}export default defineConfig({ logLevel: 'warn'${kind === 'prompt' ? ', integrations: [imageprompt({ logger: { info() {}, warn: console.warn, error: console.error } })]' : ''} });\n`,
  );
  for (let i = 0; i < n; i++) {
    if (kind === 'prompt') writeFileSync(join(dir, 'src', 'assets', `p${i}.imageprompt.json`), JSON.stringify(promptOf(i)));
    else copyFileSync(blobs[i], join(dir, 'src', 'assets', `p${i}.webp`));
  }
  const glob = kind === 'prompt' ? "import.meta.glob('../assets/*.imageprompt.json', { eager: true, query: '?imageprompt' })" : "import.meta.glob('../assets/*.webp', { eager: true })";
  writeFileSync(
    join(dir, 'src', 'pages', 'index.astro'),
    `---\nimport { Image } from 'astro:assets';\nconst images = Object.values(${glob}).map((m) => m.default);\n---\n<html><body>{images.map((image) => <Image src={image} alt="" width={32} />)}</body></html>\n`,
  );
  return dir;
}

/** The build script of a plain project for `bundler` (webpack, rspack or esbuild), with or without the plugin. */
function bundlerScript(bundler, prompts) {
  const plugin = prompts ? `import imageprompt from 'unplugin-imageprompt/${bundler}';\nconst plugins = [imageprompt({ logger: { info() {}, warn: console.warn, error: console.error } })];\n` : 'const plugins = [];\n';
  if (bundler === 'rollup' || bundler === 'rolldown') {
    // Rollup and Rolldown have no image import of their own: the floor is the smallest plugin that
    // emits an image file as an asset and exports its URL, as any project importing images needs
    const floor = `{ name: 'image-files', load(id) { if (!id.endsWith('.webp')) return null; const ref = this.emitFile({ type: 'asset', name: basename(id), source: readFileSync(id) }); return 'export default import.meta.ROLLUP_FILE_URL_' + ref + ';'; } }`;
    return `import { ${bundler} as bundle } from '${bundler}';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
${plugin}plugins.push(${floor});
const built = await bundle({ input: 'src/main.js', plugins, logLevel: 'silent' });
await built.write({ dir: 'dist', format: 'es', assetFileNames: 'assets/[name]-[hash][extname]' });
await built.close?.();
`;
  }
  if (bundler === 'esbuild') {
    // the floor imports image files with esbuild's own file loader
    return `import { build } from 'esbuild';\n${plugin}await build({ entryPoints: ['src/main.js'], bundle: true, format: 'esm', outdir: 'dist', minify: true, loader: { '.webp': 'file' }, plugins });\n`;
  }
  const create = bundler === 'webpack' ? "import webpack from 'webpack';\nconst compile = webpack;" : "import { rspack as compile } from '@rspack/core';";
  // the floor imports image files as asset modules named like the plugin's files
  return `${create}\n${plugin}const compiler = compile({ mode: 'production', context: process.cwd(), entry: './src/main.js', output: { path: process.cwd() + '/dist', assetModuleFilename: 'assets/[name]-[contenthash:8][ext]' }, module: { rules: [{ test: /\\.webp$/, type: 'asset/resource' }] }, plugins });
await new Promise((resolve, reject) => compiler.run((error, stats) => compiler.close(() => (error || stats.hasErrors() ? reject(error ?? new Error(stats.toString('errors-only'))) : resolve()))));\n`;
}

/**
 * A Rollup, Rolldown, webpack, Rspack or esbuild project importing N prompt files (kind "prompt", or
 * "url": each for its URL alone) or N image files (kind "floor": image files, with the plugin loaded;
 * kind "by-hand": each image file imported by a module written by hand that exports the same data a
 * prompt-file import gives, from `results`, the engine's answers for the prompt files); built by
 * `node build.mjs`.
 */
export function bundlerProject(name, bundler, n, kind, blobs = [], results = []) {
  const dir = freshDir(name);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'build.mjs'), bundlerScript(bundler, kind === 'prompt' || kind === 'url' || kind === 'floor'));
  if (kind === 'by-hand') writeByHand(dir, n, blobs, results);
  else writeEntry(dir, n, kind === 'prompt' || kind === 'url', blobs, kind === 'url' ? URL_QUERY : bundler === 'rollup' || bundler === 'rolldown' ? '?imageprompt' : '');
  return dir;
}

/**
 * What a prompt-file import carries, written by hand for each image: the image file imported as the
 * bundler imports images, and the same exports (variants with their blur-up fields, alt, seed, key,
 * placeholder, steps, and the default object) as literals. The plugin's own cost is what it adds to this.
 */
function writeByHand(dir, n, blobs, results) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    copyFileSync(blobs[i], join(dir, 'src', `p${i}.webp`));
    const { images, seed, key } = results[i];
    const variants = images.map((image, v) => {
      const { blurDataURL, thumbhash, color, aspectRatio } = image.meta ?? {};
      const fields = Object.entries({ blurDataURL, thumbhash, color, aspectRatio }).filter(([, field]) => field !== undefined);
      const meta = fields.map(([name, field]) => `, ${name}: ${JSON.stringify(field)}`).join('');
      return `  { src: ${v === 0 ? 'src' : JSON.stringify('')}, width: ${image.width}, height: ${image.height}, format: ${JSON.stringify(image.format)}${meta} },`;
    });
    const code = [
      `import src from './p${i}.webp';`,
      'export const alt = undefined;',
      `export const seed = ${seed};`,
      `export const key = ${JSON.stringify(key)};`,
      'export const placeholder = false;',
      'export const steps = [];',
      'export const variants = [',
      ...variants,
      '];',
      'export default { ...variants[0], alt, variants, seed, key, placeholder, steps };',
    ];
    writeFileSync(join(dir, 'src', `p${i}.js`), `${code.join('\n')}\n`);
    lines.push(`import p${i} from './p${i}.js';`);
  }
  lines.push(`globalThis.images = [${Array.from({ length: n }, (_, i) => `p${i}.src`).join(', ')}];`);
  writeFileSync(join(dir, 'src', 'main.js'), `${lines.join('\n')}\n`);
}
