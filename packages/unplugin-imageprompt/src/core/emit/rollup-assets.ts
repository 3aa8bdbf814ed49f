/**
 * Rollup, Rolldown and Vite builds: `this.emitFile` with the prompt file's name, so the bundler's
 * own `assetFileNames` pattern (`assets/[name]-[hash][extname]` in Vite, `_astro/[name].[hash][extname]`
 * in Astro) names the file; prompt files with the same bytes share one emitted file. The URL is the
 * bundler's own reference to the file: `import.meta.ROLLUP_FILE_URL_<ref>` in Rollup and Rolldown;
 * in Vite the asset placeholder Vite replaces with `base` and `renderBuiltUrl` applied, which every
 * Vite from 5 on resolves (before Vite 8 a file URL in a server build became a `file://` URL).
 */
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

/** In these bundlers the hook's `this` is the bundler's own plugin context, whose `emitFile` returns a reference. */
interface RollupLikeContext {
  emitFile(file: { type: 'asset'; name: string; originalFileName: string; source: Uint8Array }): string;
}

export class RollupAssets implements AssetEmitter {
  constructor(private readonly urls: 'vite' | 'rollup') {}

  async emit(context: HookContext, asset: ImageAsset): Promise<string> {
    const { bytes } = await assetBytes(asset);
    const native = context as unknown as RollupLikeContext;
    const reference = native.emitFile({ type: 'asset', name: `${asset.name}.${asset.extension}`, originalFileName: asset.promptFile, source: bytes });
    return this.urls === 'vite' ? JSON.stringify(`__VITE_ASSET__${reference}__`) : `import.meta.ROLLUP_FILE_URL_${reference}`;
  }
}
