/**
 * Farm: its `emitFile` writes a resource under exactly the name it is given and returns no reference,
 * so the plugin names the file itself by Farm's own `output.assetsFilename` pattern
 * (`[resourceName].[contentHash].[ext]` unless set) and the URL is `output.publicPath` plus the name,
 * as Farm gives its own image imports. Each prompt file names its own file, so names never depend on
 * the order modules load in. A file belongs to the module that emitted it, query and all: a production
 * build with Farm's persistent cache (on by default) leaves out every file whose module is not in its
 * module graph, which was every image of an import with a query when the file was said to be the
 * prompt file's.
 */
import { relative, sep } from 'node:path';
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
  private root = process.cwd();

  configure(output: FarmOutput | undefined, root: string | undefined): void {
    this.output = output ?? {};
    if (root) this.root = root;
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
    native?.context?.emitFile({ resolvedPath: this.moduleId(asset), name: fileName, content: [...bytes], resourceType: asset.extension });
    const publicPath = this.output.publicPath ?? '/';
    return JSON.stringify(`${publicPath.endsWith('/') ? publicPath : `${publicPath}/`}${fileName}`);
  }

  /**
   * The module the file belongs to, as Farm names it in its module graph. An absolute path with a
   * query is read by Farm 1.7 as a different module from the import's (its query loses the `?`), so
   * a module with a query is named relative to the root, query and all, as Farm writes its ids.
   */
  private moduleId(asset: ImageAsset): string {
    const id = asset.module ?? asset.promptFile;
    const index = id.indexOf('?');
    if (index === -1) return id;
    return `${relative(this.root, id.slice(0, index)).split(sep).join('/')}${id.slice(index)}`;
  }
}
