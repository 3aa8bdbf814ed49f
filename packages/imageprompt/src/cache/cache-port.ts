/**
 * The cache as the engine sees it: the types of an entry and two ports. `EntryStore` is where
 * entries are read and committed (the local directory, or the shared cache layered over it);
 * `LocalCache` is what stays on this machine (staging, locks, rescue, metadata upgrades, the
 * inventory prune reads). `cache-store.ts` implements both for a directory on disk;
 * `remote/remote-layer.ts` implements `EntryStore` over it. Nothing else reaches the directory.
 */
import type { StagedFile } from './atomic-file.js';
import type { LockOptions } from './cache-lock.js';
import type { ImageMetadata } from '../images/image-metadata.js';
import type { ImageFormat } from '../prompt/prompt-schema.js';
import type { NormalisedRequest, OpenAIRequest } from '../prompt/request-types.js';
import type { OPENAI_ROUTE } from '../prompt/request-types.js';
import type { StepRoute } from '../steps/step-request.js';

export const MANIFEST_VERSION = 1;

export interface CachedOutput {
  /** sha256 of the image bytes, hex. */
  digest: string;
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  /** Path of the blob relative to the cache directory. */
  file: string;
  /** Blur-up placeholder, ThumbHash, colour and aspect ratio, computed once (absent in older entries). */
  meta?: ImageMetadata;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  key: string;
  /** `venice`, or the provider named in imageprompt.config.json. */
  provider: string;
  /** The native request; on the OpenAI-compatible route, a native-shaped view of `sent`. */
  request: NormalisedRequest;
  /**
   * On the OpenAI-compatible route: the route, and the request sent there (which the key hashes). On
   * a step on images (upscale, background removal, edit): its route, and its body with each input
   * image as `sha256:<digest>` (which the key hashes).
   */
  route?: typeof OPENAI_ROUTE | StepRoute;
  sent?: OpenAIRequest | Record<string, unknown>;
  seed: number;
  seedSource: 'file' | 'derived';
  response: {
    /** Venice's generation id (JSON responses) or null (binary responses, which carry none). */
    id: string | null;
    /** Cloudflare's request id, for Venice support. */
    cfRay: string | null;
    timing: Record<string, number> | null;
  };
  flags: { blurred: boolean; contentViolation: boolean };
  /**
   * Who made the image: the host of the base URL it came from, and whether that server said it is a
   * simulator (then the image is a drawing: never served, counted or shown as a paid Venice image).
   * Absent in entries made before it was recorded.
   */
  origin?: { host: string; simulator: boolean };
  createdAt: string;
  durationMs: number;
  outputs: CachedOutput[];
}

export interface CacheEntry {
  manifest: Manifest;
  /** Absolute blob paths, in output order. */
  paths: string[];
  /** Set when the entry was just fetched from the shared cache. */
  origin?: 'remote';
}

export interface StagedOutput {
  staged: StagedFile;
  format: ImageFormat;
  width: number;
  height: number;
  meta?: ImageMetadata;
}

export interface CacheInventory {
  entries: { file: string; key: string; digests: string[] | undefined }[];
  blobs: { file: string; digest: string; ageMs: number }[];
  temps: { file: string; ageMs: number; abandoned: boolean }[];
  unexpected: { file: string; why: string }[];
}

/** Where an entry was found without fetching it: here, or only in the shared cache. */
export type EntryPlace = 'local' | 'remote';

export interface EntryStore {
  /** The complete, verified entry, fetched into the local cache first if it is only remote. */
  read(key: string): Promise<CacheEntry | undefined>;
  /** Where the entry is, without downloading its images. */
  has(key: string): Promise<EntryPlace | undefined>;
  /** Keeps a newly generated entry (locally, then wherever else this store writes). */
  commit(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[]): Promise<CacheEntry>;
  /** Resolves once writes started by `commit` (uploads) have settled. */
  settled(): Promise<void>;
}

/** The cache directory on this machine, beyond reading and committing entries. */
export interface LocalCache extends EntryStore {
  /** The directory, for messages. */
  readonly dir: string;
  /** Where a manifest lives, whether or not it is valid. */
  manifestPath(key: string): string;
  /** Throws CACHE_WRITE_FAILED unless files can be created here: called before anything is paid for. */
  checkWritable(): Promise<void>;
  /** Streams bytes into a temporary file beside the blobs, hashing as it goes. */
  stage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, fallbackDirectory?: string, durable?: boolean): Promise<StagedFile>;
  discard(staged: StagedFile[]): Promise<void>;
  /** Commits staged bytes; `durable: false` skips the flush (bytes that can be fetched again). */
  commit(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[], durable?: boolean): Promise<CacheEntry>;
  /** Takes the key's lock across processes; resolves to its release. */
  lock(key: string, options?: LockOptions): Promise<() => Promise<void>>;
  /** Where a paid image that could not be stored is kept for the next run. */
  rescueDir(key: string): string;
  rescue(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[]): Promise<string[]>;
  /** A rescued generation of the key, moved into the cache, if there is one. */
  recover(key: string): Promise<CacheEntry | undefined>;
  /** Rewrites an entry's manifest with metadata computed after it was made. */
  addMetadata(entry: CacheEntry, metas: (ImageMetadata | undefined)[]): Promise<CacheEntry>;
  inventory(): Promise<CacheInventory>;
  /** Removes one file named by its path in the cache, as the inventory gives it. */
  remove(file: string): Promise<void>;
}

export interface CacheInventory {
  entries: { file: string; key: string; digests: string[] | undefined }[];
  blobs: { file: string; digest: string; ageMs: number }[];
  temps: { file: string; ageMs: number; abandoned: boolean }[];
  unexpected: { file: string; why: string }[];
}
