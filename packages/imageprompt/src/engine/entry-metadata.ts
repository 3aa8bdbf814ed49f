/**
 * Blur-up metadata for cache entries: computed once when an image enters the cache (before it is
 * committed and uploaded, so every later hit reads it), and for entries made before metadata
 * existed, computed on first read and written into the manifest once. One image at a time: decoding
 * a 4K image takes tens of megabytes, and variants come four at once. A failure only warns.
 */
import type { CacheEntry, LocalCache } from '../cache/cache-port.js';
import { computeImageMetadata, type ImageMetadata } from '../images/image-metadata.js';
import type { Logger } from '../logger.js';

export class EntryMetadata {
  /** Images whose metadata was computed (a cache hit with stored metadata computes none). */
  computed = 0;

  constructor(
    private readonly store: LocalCache,
    private readonly logger: Logger,
    private readonly enabled: boolean,
  ) {}

  /** The entry with metadata for every image: as stored, or computed now and stored once. */
  async complete(entry: CacheEntry, name: string): Promise<CacheEntry> {
    if (!this.enabled || entry.manifest.outputs.every((o) => o.meta)) return entry;
    const metas = await this.compute(
      entry.manifest.outputs.map((o, i) => (o.meta ? undefined : { path: entry.paths[i]!, width: o.width, height: o.height })),
      name,
    );
    if (metas.every((m) => m === undefined)) return entry;
    try {
      return { ...(await this.store.addMetadata(entry, metas)), ...(entry.origin ? { origin: entry.origin } : {}) };
    } catch (error) {
      this.logger.warn(`${name}: could not store the image metadata in the cache (${(error as Error).message}); it is computed again next time`);
      return { ...entry, manifest: { ...entry.manifest, outputs: entry.manifest.outputs.map((o, i) => (metas[i] ? { ...o, meta: metas[i] } : o)) } };
    }
  }

  /** Metadata for each image given (undefined: skip it), when metadata is on. */
  async compute(images: ({ path: string; width: number; height: number } | undefined)[], name: string): Promise<(ImageMetadata | undefined)[]> {
    const metas: (ImageMetadata | undefined)[] = [];
    for (const image of images) {
      if (!image || !this.enabled) {
        metas.push(undefined);
        continue;
      }
      try {
        this.computed += 1;
        metas.push(await computeImageMetadata(image.path, image.width, image.height));
      } catch (error) {
        this.logger.warn(`${name}: could not compute the blur-up placeholder and colour (${(error as Error).message})`);
        metas.push(undefined);
      }
    }
    return metas;
  }
}
