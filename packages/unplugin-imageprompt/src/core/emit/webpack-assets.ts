/**
 * webpack and Rspack: the image is emitted by the module's own loader context (`emitFile`), so it is
 * recorded with the module and emitted again when the module comes from webpack's cache, and served
 * by webpack-dev-server from memory. The images follow the settings webpack's own `asset/resource`
 * modules follow: the name from `module.generator['asset/resource'].filename` or
 * `output.assetModuleFilename` when the user set one (webpack's default, `[hash][ext][query]`, carries
 * no name and gives way to `assets/[name]-[contenthash:8][ext]`), and the generator's `outputPath`
 * (where the file goes) and `publicPath` (what its URL starts with) when set. Each prompt file names
 * its own file (webpack does the same for two asset modules with equal bytes), so names never depend
 * on the order modules load in.
 * Without a generator `publicPath` the URL is `__webpack_public_path__` plus the file name, so
 * `output.publicPath` (also `auto`) holds.
 */
import { posix } from 'node:path';
import { ImagePromptError } from 'imageprompt/hits';
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

export const READABLE_ASSET_NAMES = 'assets/[name]-[contenthash:8][ext]';
/** A name template that puts the content's hash in the name. */
const HASHED = /\[(contenthash|hash)(:\d+)?\]/;

/** What the emitter needs of webpack's and Rspack's compilation and loader context (both fit). */
export interface Compilation {
  outputOptions: { hashDigestLength?: number };
  getAssetPath(template: string, data: { filename: string; contentHash: string; contentHashFull: string; module?: unknown }): string;
}
interface LoaderContext {
  emitFile(name: string, content: Buffer, sourceMap?: undefined, info?: AssetInfo): void;
  /** webpack's module being built; its templates take `[contenthash]` only in a module's context. */
  _module?: unknown;
}

/**
 * What webpack and Rspack are told of an emitted image: `immutable` when its name carries its
 * content hash, so that an output file already there under that name is neither compared nor
 * written again (what they do for their own hashed asset modules).
 */
export interface AssetInfo {
  immutable: boolean;
}

/** The options of webpack's asset generator that place an asset and its URL. */
export interface AssetGeneratorOptions {
  filename?: unknown;
  outputPath?: unknown;
  publicPath?: unknown;
}

export class WebpackAssets implements AssetEmitter {
  private template = READABLE_ASSET_NAMES;
  private outputPath = '';
  private publicPath: string | undefined;

  /**
   * Called when the plugin is applied, before webpack fills in its option defaults, so that only
   * what the user set is seen. Template functions are not supported: the readable default is kept.
   */
  configure(output: { assetModuleFilename?: unknown }, generator: AssetGeneratorOptions | undefined): void {
    const template = generator?.filename ?? output.assetModuleFilename;
    if (typeof template === 'string') this.template = template;
    if (typeof generator?.outputPath === 'string') this.outputPath = generator.outputPath;
    if (typeof generator?.publicPath === 'string') this.publicPath = generator.publicPath;
  }

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const native = context.getNativeBuildContext?.();
    if ((native?.framework !== 'webpack' && native?.framework !== 'rspack') || !native.loaderContext || !native.compilation) {
      throw new ImagePromptError({ code: 'NO_LOADER_CONTEXT', message: `${asset.promptFile}: the bundler gave no loader context to emit the image with`, hint: 'import the prompt file from a module the bundler builds' });
    }
    const loader = native.loaderContext as unknown as LoaderContext;
    const { bytes, digest } = await assetBytes(asset);
    const placed = this.place(native.compilation as unknown as Compilation, asset, digest, native.framework === 'webpack' ? loader._module : undefined);
    // emitting the same name with the same bytes again (a rebuild) is a no-op
    loader.emitFile(placed.output, bytes, undefined, placed.info);
    return placed.url;
  }

  /**
   * Where an image of these bytes goes and how the module names it: the file (under the generator's
   * `outputPath`) and the URL expression. `module`: webpack's module being built, whose templates
   * take `[contenthash]` only in a module's context.
   */
  place(compilation: Compilation, asset: Pick<ImageAsset, 'name' | 'extension'>, digest: string, module?: unknown): { output: string; url: string; info: AssetInfo } {
    const data = {
      filename: `${asset.name}.${asset.extension}`,
      contentHash: digest.slice(0, compilation.outputOptions.hashDigestLength ?? 20),
      contentHashFull: digest,
      ...(module ? { module } : {}),
    };
    const fileName = compilation.getAssetPath(this.template, data).replace(/\?.*$/, '');
    const url = this.publicPath !== undefined && this.publicPath !== 'auto' ? JSON.stringify(`${this.publicPath}${fileName}`) : `__webpack_public_path__ + ${JSON.stringify(fileName)}`;
    return { output: this.outputPath ? posix.join(this.outputPath, fileName) : fileName, url, info: { immutable: data.contentHash.length > 0 && fileName.includes(data.contentHash.slice(0, 4)) && HASHED.test(this.template) } };
  }
}
