/**
 * The plugin, built once for every bundler: prompt-file imports resolve to virtual modules whose
 * code imports the cached images. Nothing here knows HTTP (the engine does) or assumes Vite.
 */
import { createUnplugin, type UnpluginFactory, type UnpluginInstance } from 'unplugin';
import { ImagePromptEngine, ImagePromptError } from 'imageprompt';
import { moduleCode } from './core/module-code.js';
import { LOAD_FILTER, RESOLVE_FILTER, isPromptImport, isVirtualId, promptFileOf, toVirtualId } from './core/module-id.js';
import { resolveOptions, type ExportShape, type Options } from './core/options.js';

export type { Options } from './core/options.js';

export function createFactory(exportShape: ExportShape): UnpluginFactory<Options | undefined, false> {
  return (rawOptions) => {
    const options = resolveOptions(rawOptions, exportShape);
    let root = options.root ?? process.cwd();
    let context: 'dev' | 'build' = 'build';
    let engine: ImagePromptEngine | undefined;
    const getEngine = () => (engine ??= new ImagePromptEngine({ ...options.engine, root, context }));

    return {
      name: 'unplugin-imageprompt',
      enforce: 'pre',
      // hook filters let bundlers that support them (Vite 6+, Rolldown, Rollup 4.38+) skip calling
      // these hooks for every other module, which matters in builds with hundreds of images
      resolveId: {
        filter: { id: RESOLVE_FILTER },
        handler(id, importer) {
          // No importer, or our own module as importer: the bundler is resolving the watched prompt
          // file itself, which must stay the file so that editing it invalidates our module.
          if (!importer || isVirtualId(importer) || !isPromptImport(id)) return null;
          return toVirtualId(id, importer, root);
        },
      },
      load: {
        filter: { id: LOAD_FILTER },
        async handler(id) {
          if (!isVirtualId(id)) return null;
          const file = promptFileOf(id);
          this.addWatchFile(file);
          try {
            return moduleCode(await getEngine().load(file), options.exportShape);
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
          context = config.command === 'serve' ? 'dev' : 'build';
        },
      },
    };
  };
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
