/**
 * webpack and Rspack: the image is emitted by the module's own loader context (`emitFile`), so it is
 * recorded with the module and emitted again when the module comes from webpack's cache, and served
 * by webpack-dev-server from memory. The name follows `output.assetModuleFilename` when the user set
 * it; webpack's default (`[hash][ext][query]`, which carries no name) gives way to
 * `assets/[name]-[contenthash:8][ext]`. Each prompt file names its own file (webpack does the same for
 * two asset modules with equal bytes), so names never depend on the order modules load in.
 * The URL is `__webpack_public_path__` plus the file name, so `output.publicPath` (also `auto`) holds.
 */
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

export const READABLE_ASSET_NAMES = 'assets/[name]-[contenthash:8][ext]';

/** What the emitter needs of webpack's and Rspack's compilation and loader context (both fit). */
interface Compilation {
  outputOptions: { hashDigestLength?: number };
  getAssetPath(template: string, data: { filename: string; contentHash: string; contentHashFull: string; module?: unknown }): string;
}
interface LoaderContext {
  emitFile(name: string, content: Buffer): void;
  /** webpack's module being built; its templates take `[contenthash]` only in a module's context. */
  _module?: unknown;
}

export class WebpackAssets implements AssetEmitter {
  /** `output.assetModuleFilename` as the user wrote it, read before webpack fills in its defaults. */
  private template = READABLE_ASSET_NAMES;

  startBuild(): void {}

  /** Called when the plugin is applied, before webpack applies its option defaults. */
  configure(userAssetNames: unknown): void {
    if (typeof userAssetNames === 'string') this.template = userAssetNames;
  }

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const native = context.getNativeBuildContext?.();
    if ((native?.framework !== 'webpack' && native?.framework !== 'rspack') || !native.loaderContext || !native.compilation) {
      throw new Error('unplugin-imageprompt: webpack gave no loader context to emit the image with');
    }
    const compilation = native.compilation as unknown as Compilation;
    const loader = native.loaderContext as unknown as LoaderContext;
    const { bytes, digest } = await assetBytes(asset);
    const hash = digest.slice(0, compilation.outputOptions.hashDigestLength ?? 20);
    const data = {
      filename: `${asset.name}.${asset.extension}`,
      contentHash: hash,
      contentHashFull: digest,
      ...(native.framework === 'webpack' ? { module: loader._module } : {}),
    };
    const fileName = compilation.getAssetPath(this.template, data).replace(/\?.*$/, '');
    // emitting the same name with the same bytes again (a twin prompt file, a rebuild) is a no-op
    loader.emitFile(fileName, bytes);
    return `__webpack_public_path__ + ${JSON.stringify(fileName)}`;
  }
}
