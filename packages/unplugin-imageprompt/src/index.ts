/**
 * The plugin, built once for every bundler: each prompt-file import becomes one JavaScript module
 * (a virtual module, or in webpack and Rspack the prompt file itself) that emits its images through
 * the bundler's asset API (see `core/emit/`) and exports their URLs. In the Vite and Astro dev servers
 * a miss answers with a placeholder at once (`core/dev-generations.ts`) and the review page is served
 * live (`core/dev-review.ts`). Nothing here knows HTTP (the engine does) or assumes one bundler.
 */
import { createUnplugin, type UnpluginFactory, type UnpluginInstance } from 'unplugin';
import { relative } from 'node:path';
import { ImagePromptEngine, ImagePromptError, preloadImageTools, type ImageResult } from 'imageprompt';
import { imageAsset, type AssetEmitter } from './core/emit/asset-emitter.js';
import { DevServerAssets } from './core/emit/dev-server-assets.js';
import { EsbuildAssets } from './core/emit/esbuild-assets.js';
import { RollupAssets } from './core/emit/rollup-assets.js';
import { WebpackAssets, type AssetGeneratorOptions } from './core/emit/webpack-assets.js';
import { DevGenerations } from './core/dev-generations.js';
import { DevReview } from './core/dev-review.js';
import { moduleCode } from './core/module-code.js';
import { LOAD_FILTER, PROMPT_FILE_PATTERN, RESOLVE_FILTER, isPromptImport, isVirtualId, promptFileOf, toVirtualId } from './core/module-id.js';
import { resolveOptions, type ExportShape, type Options } from './core/options.js';

export type { Options } from './core/options.js';

export function createFactory(exportShape: ExportShape): UnpluginFactory<Options | undefined, false> {
  return (rawOptions, meta) => {
    const options = resolveOptions(rawOptions, exportShape);
    let root = options.root ?? process.cwd();
    let base = '/';
    let context: 'dev' | 'build' = 'build';
    let engine: ImagePromptEngine | undefined;
    const getEngine = () => (engine ??= new ImagePromptEngine({ ...options.engine, root, context }));
    const devServer = new DevServerAssets(() => base);
    const review = new DevReview(getEngine, () => base);
    const generations = new DevGenerations(() => root, (file) => review.changed(file));
    // a miss in the Vite or Astro dev server shows a placeholder at once and never blocks a page
    const inBackground = () => meta.framework === 'vite' && context === 'dev' && !options.waitInDev;
    const esbuild = new EsbuildAssets(() => root);
    const webpack = new WebpackAssets();
    const builder = bundlerAssets(meta.framework, { esbuild, webpack });
    // webpack and Rspack resolve prompt-file imports themselves and the plugin loads the file as a
    // JavaScript module: no virtual module (which these bundlers can only fake with files in memory,
    // several times slower), and their own watching sees edits to the file
    const nativeResolution = meta.framework === 'webpack' || meta.framework === 'rspack';
    // Vite serves from the plugin in dev and emits through Rollup/Rolldown in builds
    const assets = (): AssetEmitter => (meta.framework === 'vite' && context === 'dev' ? devServer : builder);
    // webpack and Rspack: the project root is the compiler's context; watching (webpack --watch,
    // webpack-dev-server) is the dev context, where a missing key means placeholders
    const webpackLike = (compiler: WebpackLikeCompiler) => {
      if (!options.root) root = compiler.context;
      // the prompt file itself is the module (see nativeResolution): JavaScript, not webpack's JSON
      compiler.options.module?.rules?.push({ test: PROMPT_FILE_PATTERN, type: 'javascript/auto' });
      const generators = compiler.options.module?.generator;
      webpack.configure(compiler.options.output, (generators?.['asset/resource'] ?? generators?.asset) as AssetGeneratorOptions | undefined);
      compiler.hooks.watchRun.tap('unplugin-imageprompt', () => {
        context = 'dev';
      });
    };

    return {
      name: 'unplugin-imageprompt',
      enforce: 'pre',
      // hook filters let bundlers that support them (Vite 6+, Rolldown, Rollup 4.38+) skip calling
      // these hooks for every other module, which matters in builds with hundreds of images
      resolveId: {
        filter: { id: RESOLVE_FILTER },
        handler(id, importer) {
          if (nativeResolution) return null;
          // No importer, or our own module as importer: the bundler is resolving the watched prompt
          // file itself, which must stay the file so that editing it invalidates our module.
          if (!importer || isVirtualId(importer) || !isPromptImport(id)) return null;
          return toVirtualId(id, importer, root);
        },
      },
      load: {
        filter: { id: nativeResolution ? RESOLVE_FILTER : LOAD_FILTER },
        async handler(id) {
          let file: string;
          if (nativeResolution) {
            if (!isPromptImport(id)) return null;
            file = id.split('?')[0]!;
          } else {
            if (!isVirtualId(id)) return null;
            file = promptFileOf(id);
            this.addWatchFile(file);
          }
          try {
            if (context === 'dev') review.changed(file);
            let result: ImageResult;
            let landed = false;
            if (inBackground()) {
              const answer = await getEngine().loadWithoutWaiting(file);
              result = answer.result;
              generations.loaded(file, result.key, answer.generated);
              landed = generations.takeLanded(file) && !answer.generated;
            } else result = await getEngine().load(file);
            const emitter = assets();
            const urls = await Promise.all(result.images.map((image, i) => emitter.emit(this, imageAsset(file, i, result.images.length, image))));
            const code = moduleCode(result, options.exportShape, urls);
            return landed ? `${code}console.info(${JSON.stringify(`[imageprompt] ${relative(root, file)}: the generated image has landed`)});\n` : code;
          } catch (error) {
            throw readable(error);
          }
        },
      },
      async buildStart() {
        // options and imageprompt.config.json are checked now, before any module is loaded; the
        // defaults given here are recorded so that the imageprompt command computes the same keys
        await getEngine().recordBuildDefaults(options.engine.defaults);
      },
      async buildEnd() {
        if (!engine) return;
        // a failed build must not drop images already being paid for: let them reach the cache
        await engine.drain();
        const stats = engine.takeStats();
        if (Object.values(stats).some((n) => n > 0)) engine.options.logger.info(engine.summary(stats));
        const missing = engine.takeMissing();
        if (missing.length > 0) throw engine.frozenError(missing);
      },
      vite: {
        configResolved(config) {
          if (!options.root) root = config.root;
          base = config.base.endsWith('/') ? config.base : `${config.base}/`;
          context = config.command === 'serve' ? 'dev' : 'build';
        },
        configureServer(server) {
          // placeholders are drawn with sharp: loaded now, not when the first page waits for one
          if (!options.waitInDev) void preloadImageTools();
          server.middlewares.use(devServer.middleware);
          server.middlewares.use(review.middleware);
          generations.attach(server);
        },
        // An edit to a prompt file invalidates its module by the id the plugin gave it, whatever was
        // requested first (the module can be fetched before any importer names it, and then the
        // watched file is no import of it in Vite's graph), so the next request loads it again.
        handleHotUpdate({ file, modules, server }) {
          if (!PROMPT_FILE_PATTERN.test(file)) return;
          const module = server.moduleGraph.getModuleById(toVirtualId(file, file, root));
          if (!module) return;
          server.moduleGraph.invalidateModule(module);
          return [...modules, module];
        },
      },
      webpack: webpackLike,
      rspack: webpackLike,
      rolldown: {
        options(input) {
          if (!options.root && input.cwd) root = input.cwd;
        },
      },
      esbuild: {
        onResolveFilter: RESOLVE_FILTER,
        onLoadFilter: LOAD_FILTER,
        setup(build) {
          if (!options.root && build.initialOptions.absWorkingDir) root = build.initialOptions.absWorkingDir;
          esbuild.setup(build);
        },
      },
    };
  };
}

/** What the plugin reads of a webpack or Rspack compiler (both fit). */
interface WebpackLikeCompiler {
  context: string;
  options: {
    output: { assetModuleFilename?: unknown };
    module?: { generator?: { 'asset/resource'?: object; asset?: object }; rules?: { push(rule: { test: RegExp; type: string }): unknown } };
  };
  hooks: { watchRun: { tap(name: string, fn: () => void): void } };
}

/** How the bundler at hand emits an image. */
function bundlerAssets(framework: string, emitters: { esbuild: EsbuildAssets; webpack: WebpackAssets }): AssetEmitter {
  switch (framework) {
    case 'vite':
      return new RollupAssets('vite');
    case 'rollup':
    case 'rolldown':
      return new RollupAssets('rollup');
    case 'webpack':
    case 'rspack':
      return emitters.webpack;
    case 'esbuild':
      return emitters.esbuild;
    default:
      throw new Error(`unplugin-imageprompt: ${framework} is not supported; use the vite, astro, rollup, rolldown, webpack, rspack or esbuild entry`);
  }
}

/**
 * An engine error as a build error that reads like the command's: file, field, what was wrong and
 * what to do, without a stack trace or the schema library's dump (`DEBUG=imageprompt` keeps them).
 */
function readable(error: unknown): unknown {
  if (!(error instanceof ImagePromptError) || /\bimageprompt\b/.test(process.env.DEBUG ?? '')) return error;
  const clean = new Error(error.message);
  clean.name = 'imageprompt';
  clean.stack = '';
  return clean;
}

export const unpluginFactory = createFactory('image-object');

export const unplugin: UnpluginInstance<Options | undefined, false> = createUnplugin(unpluginFactory);

export default unplugin;
