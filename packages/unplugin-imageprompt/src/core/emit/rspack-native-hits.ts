/**
 * Rspack builds: a hit this machine verified before is served without a loader. A JavaScript loader
 * costs Rspack a round trip from Rust for every module, which made a build of cached prompt files
 * cost twice what the same images imported by hand do (bench section 1). So at the start of each
 * compilation, every prompt file the hit index answers becomes a native virtual module (Rspack's
 * `VirtualModulesPlugin`, which shadows the file with its module code, so Rspack parses it in Rust
 * like any module), and its images are emitted once the compilation shows which prompt files it
 * imported. Everything else takes the loader as before: misses, files with `responsive` (their
 * derivatives are encoded by the loader), imports with directives (`?w=…`, a query), and watching
 * compilers (a dev server), where a file can change between compilations.
 *
 * The module code and the file names are the loader's own (`moduleCode`, `WebpackAssets.place`), so
 * a build gives the same output whichever way a prompt file was served.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { servedFromRecord, type HitRecord } from 'imageprompt/hits';
import type { BuildContext } from '../build-context.js';
import { moduleCode } from '../module-code.js';
import type { ExportShape } from '../options.js';
import { imageAsset } from './asset-emitter.js';
import type { AssetInfo, Compilation, WebpackAssets } from './webpack-assets.js';

const NAME = 'unplugin-imageprompt';

/** What this needs of an Rspack compiler. */
export interface RspackCompiler {
  context: string;
  watchMode?: boolean;
  rspack?: {
    experiments?: { VirtualModulesPlugin?: new () => { apply(compiler: unknown): void; writeModule(path: string, contents: string): void } };
    sources: { RawSource: new (bytes: Buffer) => unknown };
    Compilation: { PROCESS_ASSETS_STAGE_ADDITIONAL: number };
  };
  options: { module?: { rules?: unknown[] } };
  hooks: { thisCompilation: { tap(name: string, fn: (compilation: RspackCompilation) => void): void } };
}

interface RspackCompilation extends Compilation {
  modules: Iterable<{ resource?: string }>;
  emitAsset(name: string, source: unknown, info?: AssetInfo): void;
  getAsset(name: string): unknown;
  hooks: { processAssets: { tapPromise(options: { name: string; stage: number }, fn: () => Promise<void>): void } };
}

/** unplugin's rule that runs the load hook's loader, as unplugin 2/3 writes it. */
interface LoaderRule {
  enforce?: string;
  include: (id: string) => boolean;
  use: { loader: string; options?: { plugin?: { name?: string } } }[];
  type?: string;
}

/** One prompt file served natively this compilation: its record and where each image goes. */
interface Served {
  name: string;
  record: HitRecord;
  images: { output: string; path: string; info: AssetInfo }[];
}

export class RspackNativeHits {
  /** The prompt files this compilation serves natively, by absolute path. */
  private served = new Map<string, Served>();

  constructor(
    private readonly build: BuildContext,
    private readonly webpack: WebpackAssets,
    private readonly shape: ExportShape,
  ) {}

  /**
   * Sets up native hits on the compiler, if it has virtual modules and unplugin's loader rule is
   * where it is expected (otherwise every prompt file keeps the loader, as in webpack).
   */
  apply(compiler: RspackCompiler): void {
    const VirtualModules = compiler.rspack?.experiments?.VirtualModulesPlugin;
    if (!VirtualModules || !this.narrowLoaderRule(compiler)) return;
    const modules = new VirtualModules();
    modules.apply(compiler);
    compiler.hooks.thisCompilation.tap(NAME, (compilation) => {
      this.served.clear();
      // a watching compiler (a dev server) sees files change between compilations: the loader follows them
      if (compiler.watchMode || this.build.mode === 'dev') return;
      for (const file of this.build.indexedFiles()) {
        const path = relative(compiler.context, file);
        if (path.startsWith('..') || isAbsolute(path)) continue;
        const record = this.build.lookupHit(file);
        // responsive derivatives are made and emitted by the loader
        if (!record || record.responsive) continue;
        const result = servedFromRecord(file, record);
        const placed = result.images.map((image, i) => this.webpack.place(compilation, imageAsset(file, i, result.images.length, image), image.digest));
        modules.writeModule(path, moduleCode(result, this.shape, placed.map((p) => p.url)));
        this.served.set(file, { name: path.split('\\').join('/'), record, images: placed.map((p, i) => ({ output: p.output, path: result.images[i]!.path, info: p.info })) });
      }
      if (this.served.size === 0) return;
      const { sources, Compilation } = compiler.rspack!;
      compilation.hooks.processAssets.tapPromise({ name: NAME, stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, async () => {
        // only the prompt files this compilation imported: said, counted and emitted as the loader would
        const wanted: Served['images'] = [];
        for (const module of compilation.modules) {
          const served = module.resource ? this.served.get(module.resource) : undefined;
          if (!served) continue;
          this.build.servedHit(served.name, served.record);
          wanted.push(...served.images);
        }
        // read off the main thread, all at once: Rspack is waiting for nothing else meanwhile
        const bytes = await Promise.all(wanted.map((image) => readFile(image.path)));
        wanted.forEach((image, i) => {
          if (!compilation.getAsset(image.output)) compilation.emitAsset(image.output, new sources.RawSource(bytes[i]!), image.info);
        });
      });
    });
  }

  /**
   * unplugin runs the load hook's loader for every prompt file; a file served natively must not get
   * it unless its import has a query (directives, which the virtual module cannot carry). The rule is
   * split in two (`oneOf`): with a query, the loader as before; without one, the loader only for files
   * not served natively. Answers false (and changes nothing) if the rule is not found.
   */
  private narrowLoaderRule(compiler: RspackCompiler): boolean {
    const rules = compiler.options.module?.rules;
    const index = rules?.findIndex((rule) => {
      const use = (rule as Partial<LoaderRule>)?.use;
      return Array.isArray(use) && use[0]?.options?.plugin?.name === NAME && typeof (rule as LoaderRule).include === 'function';
    });
    if (!rules || index === undefined || index < 0) return false;
    const rule = rules[index] as LoaderRule;
    const { include, enforce, ...rest } = rule;
    rules[index] = {
      ...(enforce ? { enforce } : {}),
      oneOf: [
        { ...rest, resourceQuery: /./, include },
        { ...rest, include: (id: string) => include(id) && !this.served.has(id) },
      ],
    };
    return true;
  }
}
