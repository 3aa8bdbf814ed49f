/**
 * Rollup, Rolldown and Vite builds: `this.emitFile` with the prompt file's name, so the bundler's
 * own `assetFileNames` pattern (`assets/[name]-[hash][extname]` in Vite, `_astro/[name].[hash][extname]`
 * in Astro) names the file, and `import.meta.ROLLUP_FILE_URL_<ref>` lets the bundler write its URL
 * (Vite resolves it against `base` and `renderBuiltUrl`). Prompt files with the same bytes share one
 * emitted file.
 */
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

/** In these bundlers the hook's `this` is the bundler's own plugin context, whose `emitFile` returns a reference. */
interface RollupLikeContext {
  emitFile(file: { type: 'asset'; name: string; originalFileName: string; source: Uint8Array }): string;
}

export class RollupAssets implements AssetEmitter {
  startBuild(): void {}

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const { bytes } = await assetBytes(asset);
    const native = context as unknown as RollupLikeContext;
    const reference = native.emitFile({ type: 'asset', name: `${asset.name}.${asset.extension}`, originalFileName: asset.promptFile, source: bytes });
    return `import.meta.ROLLUP_FILE_URL_${reference}`;
  }
}
