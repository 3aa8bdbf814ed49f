/**
 * Farm: its `emitFile` writes a resource under exactly the name it is given and returns no reference,
 * so the plugin names the file itself by Farm's own `output.assetsFilename` pattern
 * (`[resourceName].[contentHash].[ext]` unless set) and the URL is `output.publicPath` plus the name,
 * as Farm gives its own image imports. Each prompt file names its own file, so names never depend on
 * the order modules load in.
 */
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

/** What this reads of Farm's resolved `compilation.output`. */
export interface FarmOutput {
  assetsFilename?: string;
  publicPath?: string;
}

interface FarmContext {
  emitFile(file: { resolvedPath: string; name: string; content: number[]; resourceType: string }): void;
}

export class FarmAssets implements AssetEmitter {
  private output: FarmOutput = {};

  configure(output: FarmOutput | undefined): void {
    this.output = output ?? {};
  }

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const { bytes, digest } = await assetBytes(asset);
    const fileName = (this.output.assetsFilename ?? '[resourceName].[contentHash].[ext]')
      .replaceAll('[resourceName]', asset.name)
      .replaceAll('[name]', asset.name)
      .replaceAll('[contentHash]', digest.slice(0, 8))
      .replaceAll('[ext]', asset.extension)
      .replace(/^\/+/, '');
    const native = context.getNativeBuildContext?.() as { context?: FarmContext } | undefined;
    native?.context?.emitFile({ resolvedPath: asset.promptFile, name: fileName, content: [...bytes], resourceType: asset.extension });
    const publicPath = this.output.publicPath ?? '/';
    return JSON.stringify(`${publicPath.endsWith('/') ? publicPath : `${publicPath}/`}${fileName}`);
  }
}
