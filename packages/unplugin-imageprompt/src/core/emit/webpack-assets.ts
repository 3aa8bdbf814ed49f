/**
 * webpack and Rspack: the image is emitted by the module's own loader context (`emitFile`), so it is
 * recorded with the module and emitted again when the module comes from webpack's cache, and served
 * by webpack-dev-server from memory. The name follows `output.assetModuleFilename`; webpack's default
 * (`[hash][ext][query]`, which carries no name) is replaced by `assets/[name]-[contenthash:8][ext]`.
 * The URL is `__webpack_public_path__` plus the file name, so `output.publicPath` (also `auto`) holds.
 */
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

export const WEBPACK_DEFAULT_ASSET_NAMES = '[hash][ext][query]';
export const READABLE_ASSET_NAMES = 'assets/[name]-[contenthash:8][ext]';

/** What the emitter needs of webpack's and Rspack's compilation and loader context (both fit). */
interface Compilation {
  outputOptions: { assetModuleFilename?: unknown; hashDigestLength?: number };
  getAssetPath(template: string, data: { filename: string; contentHash: string; hash: string }): string;
}
interface LoaderContext {
  emitFile(name: string, content: Buffer): void;
}

export class WebpackAssets implements AssetEmitter {
  startBuild(): void {}

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const native = context.getNativeBuildContext?.();
    if ((native?.framework !== 'webpack' && native?.framework !== 'rspack') || !native.loaderContext || !native.compilation) {
      throw new Error('unplugin-imageprompt: webpack gave no loader context to emit the image with');
    }
    const compilation = native.compilation as unknown as Compilation;
    const loader = native.loaderContext as unknown as LoaderContext;
    const { bytes, digest } = await assetBytes(asset);
    const fileName = assetFileName(compilation, asset, digest);
    // emitting the same name with the same bytes again (a twin prompt file, a rebuild) is a no-op
    loader.emitFile(fileName, bytes);
    return `__webpack_public_path__ + ${JSON.stringify(fileName)}`;
  }
}

function assetFileName(compilation: Compilation, asset: ImageAsset, digest: string): string {
  const configured = compilation.outputOptions.assetModuleFilename;
  const template = typeof configured === 'string' && configured !== WEBPACK_DEFAULT_ASSET_NAMES ? configured : READABLE_ASSET_NAMES;
  const hash = digest.slice(0, compilation.outputOptions.hashDigestLength ?? 20);
  return compilation.getAssetPath(template, { filename: `${asset.name}.${asset.extension}`, contentHash: hash, hash }).replace(/\?.*$/, '');
}
