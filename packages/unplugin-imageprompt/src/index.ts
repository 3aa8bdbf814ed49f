/**
 * The plugin, built once for every bundler: the wiring of hooks to their work. Each prompt-file
 * import becomes one JavaScript module (a virtual module per import query, or in webpack, Rspack,
 * esbuild and Farm the prompt file itself) made by `core/load-prompt-module.ts`, which emits its images
 * and their responsive sizes through the bundler's asset API (`core/emit/`). What the build is (root, base, dev or build, the engine) is one object,
 * `core/build-context.ts`. In the Vite and Astro dev servers a miss answers with a placeholder at once
 * (`core/dev-generations.ts`) and the review page is served live (`core/dev-review.ts`). Nothing here
 * knows HTTP (the engine does) or assumes one bundler.
 */
import { createUnplugin, type UnpluginFactory, type UnpluginInstance } from 'unplugin';
import { ImagePromptError } from 'imageprompt/hits';
import type { AssetEmitter } from './core/emit/asset-emitter.js';
import { BuildContext } from './core/build-context.js';
import { loadPromptModule } from './core/load-prompt-module.js';
import { DevServerAssets } from './core/emit/dev-server-assets.js';
import { EsbuildAssets } from './core/emit/esbuild-assets.js';
import { FarmAssets } from './core/emit/farm-assets.js';
import { RollupAssets } from './core/emit/rollup-assets.js';
import { WebpackAssets, type AssetGeneratorOptions } from './core/emit/webpack-assets.js';
import { RspackNativeHits, type RspackCompiler } from './core/emit/rspack-native-hits.js';
import { DevGenerations } from './core/dev-generations.js';
import { WatchGenerations, type WatchedCompiler } from './core/watch-generations.js';
import { DevReview } from './core/dev-review.js';
import { LOAD_FILTER, ModuleIds, PROMPT_FILE_PATTERN, RESOLVE_FILTER, importDirectives, isPromptImport } from './core/module-id.js';
import { resolveOptions, type ExportShape, type Options } from './core/options.js';

export type { Options } from './core/options.js';
export type { ImportedStep } from './core/module-code.js';

export function createFactory(exportShape: ExportShape): UnpluginFactory<Options | undefined, false> {
  return (rawOptions, meta) => {
    const build = new BuildContext(resolveOptions(rawOptions, exportShape), meta.framework);
    const devServer = new DevServerAssets(() => build.base);
    const review = new DevReview(() => build.engine(), () => build.base);
    const ids = new ModuleIds(() => build.root);
    const devGenerations = new DevGenerations(ids, (file) => review.changed(file));
    const watchGenerations = new WatchGenerations();
    const generations = meta.framework === 'vite' ? devGenerations : watchGenerations;
    const esbuild = new EsbuildAssets(() => build.root);
    const webpack = new WebpackAssets();
    const farm = new FarmAssets();
    const nativeHits = new RspackNativeHits(build, webpack, exportShape);
    const builder = bundlerAssets(meta.framework, { esbuild, webpack, farm });
    // webpack, Rspack, esbuild, Farm and Rolldown resolve prompt-file imports themselves (query and
    // all) and the plugin loads the file as a JavaScript module: no virtual module (which webpack and
    // Rspack can only fake with files in memory, several times slower, which costs esbuild a round
    // trip to the plugin per import, and Rolldown a call from Rust into JavaScript per import, and
    // whose importer unplugin gives Farm relative to the working directory, not Farm's root), and their
    // own watching sees edits to the file. Vite (whose JSON plugin would take the file) and Rollup
    // (whose resolver keeps no query) get virtual modules.
    const nativeResolution = ['webpack', 'rspack', 'esbuild', 'farm', 'rolldown'].includes(meta.framework);
    const rolldown = meta.framework === 'rolldown';
    // Vite serves from the plugin in dev and emits through Rollup/Rolldown in builds
    const emitter = (): AssetEmitter => (meta.framework === 'vite' && build.mode === 'dev' ? devServer : builder);
    // webpack and Rspack: the project root is the compiler's context; watching (webpack --watch,
    // webpack-dev-server) is the dev context, where a missing key means placeholders
    const webpackLike = (compiler: WebpackLikeCompiler) => {
      build.useBundlerRoot(compiler.context);
      // the prompt file itself is the module (see nativeResolution): JavaScript, not webpack's JSON
      compiler.options.module?.rules?.push({ test: PROMPT_FILE_PATTERN, type: 'javascript/auto' });
      const generators = compiler.options.module?.generator;
      webpack.configure(compiler.options.output, (generators?.['asset/resource'] ?? generators?.asset) as AssetGeneratorOptions | undefined);
      compiler.hooks.watchRun.tap('unplugin-imageprompt', () => {
        build.mode = 'dev';
      });
      watchGenerations.attach(compiler);
    };

    return {
      name: 'unplugin-imageprompt',
      enforce: 'pre',
      // hook filters let bundlers that support them (Vite 6+, Rolldown, Rollup 4.38+) skip calling
      // these hooks for every other module, which matters in builds with hundreds of images. Where
      // the bundler resolves prompt files itself there is no resolve hook at all: unplugin would
      // otherwise call into JavaScript for every module webpack or Rspack resolves.
      ...(nativeResolution
        ? {}
        : {
            resolveId: {
              filter: { id: RESOLVE_FILTER },
              handler(id: string, importer: string | undefined) {
                // No importer, or our own module as importer: the bundler is resolving the watched
                // prompt file itself, which must stay the file so that editing it invalidates our module.
                if (!importer || ids.isVirtual(importer) || !isPromptImport(id)) return null;
                return ids.toVirtual(id, importer);
              },
            },
          }),
      load: {
        filter: { id: nativeResolution ? RESOLVE_FILTER : LOAD_FILTER },
        async handler(id) {
          let file: string;
          let directives: string | undefined;
          if (nativeResolution) {
            directives = importDirectives(id);
            if (directives === undefined) return null;
            file = id.split('?')[0]!;
            // Rolldown's watcher follows the files it read itself, not a module a plugin loaded
            if (rolldown) this.addWatchFile(file);
          } else {
            if (!ids.isVirtual(id)) return null;
            file = ids.promptFile(id);
            directives = ids.directives(id);
            this.addWatchFile(file);
          }
          const code = await loadPromptModule(this, file, { build, emitter: emitter(), generations, review }, directives, id);
          if (!rolldown) return code;
          // Rolldown takes a module's type from its file name (JSON here) unless told: this one is JavaScript
          const javascript: { code: string; moduleType: 'js' } = { code, moduleType: 'js' };
          return javascript;
        },
      },
      async buildStart() {
        await build.start();
      },
      // Rollup, Rolldown and Vite pass the error that ends a failed build (unplugin does not type it)
      async buildEnd(error?: Error) {
        if (error) error.message = ids.readable(error.message);
        await build.saveHitIndex();
        const engine = build.engineIfMade;
        // a failed build must not drop images already being paid for: let them reach the cache
        if (!build.endsWithoutWaiting) await engine?.drain();
        const { line } = build.takeSummary();
        if (line) build.logger.info(line);
        const missing = engine?.takeMissing() ?? [];
        if (engine && missing.length > 0) throw engine.frozenError(missing);
      },
      vite: {
        configResolved(config) {
          build.useBundlerRoot(config.root);
          build.base = config.base.endsWith('/') ? config.base : `${config.base}/`;
          build.mode = config.command === 'serve' ? 'dev' : 'build';
        },
        configureServer(server) {
          // placeholders are drawn with sharp: loaded now, not when the first page waits for one
          if (!build.options.waitInDev) void import('imageprompt').then(({ preloadImageTools }) => preloadImageTools());
          server.middlewares.use(devServer.middleware);
          server.middlewares.use(review.middleware);
          devGenerations.attach(server);
        },
        // An edit to a prompt file invalidates its module by the id the plugin gave it, whatever was
        // requested first (the module can be fetched before any importer names it, and then the
        // watched file is no import of it in Vite's graph), so the next request loads it again.
        handleHotUpdate({ file, modules, server }) {
          if (!PROMPT_FILE_PATTERN.test(file)) return;
          // one module per set of import directives the file was imported with
          const ours = ids.idsOf(file).flatMap((id) => server.moduleGraph.getModuleById(id) ?? []);
          if (ours.length === 0) return;
          for (const module of ours) server.moduleGraph.invalidateModule(module);
          return [...modules, ...ours];
        },
      },
      webpack: webpackLike,
      rspack(compiler) {
        webpackLike(compiler);
        // hits served as native modules, without a loader (see core/emit/rspack-native-hits.ts)
        nativeHits.apply(compiler as unknown as RspackCompiler);
      },
      rolldown: {
        options(input) {
          build.useBundlerRoot(input.cwd);
        },
      },
      farm: {
        configResolved(config) {
          build.useBundlerRoot(config.root);
          build.mode = config.compilation?.mode === 'development' ? 'dev' : 'build';
          farm.configure(config.compilation?.output, config.root);
        },
      },
      esbuild: {
        // esbuild resolves the import (a `?imageprompt` query comes to the load hook as its suffix),
        // and the load hook takes the prompt file as JavaScript
        onLoadFilter: PROMPT_FILE_PATTERN,
        loader: 'js',
        setup(esbuildBuild) {
          build.useBundlerRoot(esbuildBuild.initialOptions.absWorkingDir);
          esbuild.setup(esbuildBuild);
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
  watching?: WatchedCompiler['watching'];
}

/** How the bundler at hand emits an image. */
function bundlerAssets(framework: string, emitters: { esbuild: EsbuildAssets; webpack: WebpackAssets; farm: FarmAssets }): AssetEmitter {
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
    case 'farm':
      return emitters.farm;
    default:
      throw new ImagePromptError({
        code: 'UNSUPPORTED_BUNDLER',
        message: `unplugin-imageprompt has no entry for ${framework}`,
        hint: 'import the entry for your bundler: unplugin-imageprompt/vite, /astro, /rollup, /rolldown, /webpack, /rspack, /esbuild or /farm',
      });
  }
}

export const unpluginFactory = createFactory('image-object');

export const unplugin: UnpluginInstance<Options | undefined, false> = createUnplugin(unpluginFactory);

export default unplugin;
