/**
 * The port through which the engine reads and writes cache entries. The local directory
 * (`cache-store.ts`) is one implementation; the shared cache (`remote/remote-layer.ts`) is a
 * read-through, write-behind layer over it. Locks, staging and rescue stay with the local directory.
 */
import type { CacheEntry, Manifest, StagedOutput } from './cache-store.js';

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
