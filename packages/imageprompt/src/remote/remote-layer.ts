/**
 * The shared cache as a layer over the local directory: reads go to the local cache and, on a miss,
 * through to the remote (fetched and verified by the remote client, then committed locally here,
 * and served as a hit); entries generated here are committed locally and then uploaded behind the
 * build. The layer is the one place that writes remote hits into the local cache; the remote client
 * never touches the local entries. See cache/cache-port.ts.
 */
import { LocalWriteError } from '../cache/atomic-file.js';
import type { CachedOutput, CacheEntry, EntryPlace, EntryStore, LocalCache, Manifest, StagedOutput } from '../cache/cache-port.js';
import { cacheWriteError } from '../cache/cache-write-failure.js';
import type { Logger } from '../logger.js';
import type { RemoteCache, RemoteInventory } from './remote-cache.js';

export interface ClaimWait {
  key: string;
  waitedMs: number;
}

export class RemoteLayer implements EntryStore {
  private uploads = new Map<string, Promise<unknown>>();
  private leases = new Map<string, () => Promise<void>>();
  /** Keys made here this run (in write mode) that did not reach the shared cache, for `generate`'s summary. */
  readonly notUploaded = new Set<string>();

  /** Entries restored from the remote this run, for summaries. */
  restored = 0;

  constructor(
    private readonly local: LocalCache,
    private readonly remote: RemoteCache,
    private readonly logger: Logger,
    /** How long to wait for another machine's upload of the same key before generating. @default 300000 */
    private readonly claimWaitMs = 300_000,
  ) {}

  /**
   * `imageprompt pull` for one key, in one pass: here already, fetched now, in no cache, or not
   * fetched whole (damaged, or the remote failed; a remote set aside this run cannot say "absent").
   * Its blobs are asked for once, by the download itself: no look first.
   */
  async pull(key: string): Promise<'local' | 'pulled' | 'absent' | 'failed'> {
    if (await this.local.read(key)) return 'local';
    if (!(await this.remote.manifest(key))) return this.remote.available ? 'absent' : 'failed';
    return (await this.restore(key).catch(() => undefined)) ? 'pulled' : 'failed';
  }

  async read(key: string): Promise<CacheEntry | undefined> {
    return (await this.local.read(key)) ?? this.restore(key);
  }

  /** The entry fetched from the remote and committed here, or undefined when the remote has it not whole. */
  private async restore(key: string): Promise<CacheEntry | undefined> {
    const fetched = await this.remote.fetch(key, this.local);
    if (!fetched) return undefined;
    let entry: CacheEntry;
    try {
      // no flush to disk: an entry lost in a crash is downloaded again, not paid for again
      entry = await this.local.commit(fetched.manifest, fetched.staged, false);
    } catch (error) {
      await this.local.discard(fetched.staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, this.local.dir, 'nothing was paid for');
      throw error;
    }
    this.restored += 1;
    return { ...entry, origin: 'remote' };
  }

  /** Where the shared cache is, for messages (never a credential). */
  get label(): string {
    return this.remote.backend.label;
  }

  /** Whether the credentials given may write (whatever the mode says). */
  get canWrite(): boolean {
    return this.remote.backend.canWrite;
  }

  /** Whether this machine uploads: `read` never writes. */
  get mode(): 'read' | 'write' {
    return this.remote.mode;
  }

  /** Bytes downloaded and uploaded so far, for progress. */
  get bytesIn(): number {
    return this.remote.bytesIn;
  }

  get bytesOut(): number {
    return this.remote.bytesOut;
  }

  /** Uploads a local entry now (`imageprompt push`): what happened, never a throw. */
  push(entry: CacheEntry): ReturnType<RemoteCache['upload']> {
    return this.remote.upload(entry);
  }

  /** What the shared cache holds, for `prune --remote`. */
  inventory(): Promise<RemoteInventory> {
    return this.remote.inventory();
  }

  removeObject(path: string): Promise<void> {
    return this.remote.removeObject(path);
  }

  async has(key: string): Promise<EntryPlace | undefined> {
    if (await this.local.read(key)) return 'local';
    // on the remote whole: its manifest valid and each blob it names there
    return (await this.remote.holds(key)) ? 'remote' : undefined;
  }

  /**
   * The first image a shared-cache entry records, from its checked manifest, its blobs not fetched:
   * what walking a chain needs to key the step after it (`plan`, `check`).
   */
  async recordedOutput(key: string): Promise<CachedOutput | undefined> {
    return (await this.remote.manifest(key))?.outputs[0];
  }

  async commit(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[]): Promise<CacheEntry> {
    const entry = await this.local.commit(manifest, outputs);
    this.upload(entry);
    return entry;
  }

  /** Uploads an entry behind the build; `settled()` waits for it. */
  upload(entry: CacheEntry): Promise<unknown> {
    const { key } = entry.manifest;
    const upload = this.remote
      .upload(entry)
      .then((outcome) => {
        // in write mode, an entry made here that the shared cache did not take: said at the end
        if (this.mode === 'write' && (outcome === 'failed' || outcome === 'off')) this.notUploaded.add(key);
      })
      .finally(() => {
        this.uploads.delete(key);
        return this.dropLease(key);
      });
    this.uploads.set(key, upload);
    return upload;
  }

  async settled(): Promise<void> {
    while (this.uploads.size > 0) await Promise.allSettled([...this.uploads.values()]);
  }

  /**
   * Called with the key's local lock held, before paying: if another machine is generating the same
   * key (its lease is live), waits for its upload (bounded) and resolves to the entry; otherwise takes
   * the lease, where the store allows, and resolves to undefined: generate.
   */
  async claim(key: string, onWait: (wait: ClaimWait) => void): Promise<CacheEntry | undefined> {
    const started = Date.now();
    let noticeAt = started + 2000;
    for (;;) {
      const lease = await this.remote.lease(key);
      if (lease === 'none') return undefined;
      if (lease !== 'held') {
        // the lease may have just been given up by a machine that uploaded the entry
        const uploaded = await this.read(key);
        if (uploaded) {
          await lease.release();
          return uploaded;
        }
        this.leases.set(key, lease.release);
        return undefined;
      }
      const entry = await this.read(key);
      if (entry) return entry;
      const now = Date.now();
      if (now - started > this.claimWaitMs) {
        this.logger.warn(`another machine has been generating key ${key.slice(0, 12)} for over ${Math.round(this.claimWaitMs / 1000)} s without uploading it; generating it here`);
        return undefined;
      }
      if (now >= noticeAt) {
        onWait({ key, waitedMs: now - started });
        noticeAt = now + 15_000;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /** Gives up the key's lease once no upload of it is in flight (the engine calls this when done). */
  async release(key: string): Promise<void> {
    if (this.uploads.has(key)) return; // the upload drops it when it ends
    await this.dropLease(key);
  }

  private async dropLease(key: string): Promise<void> {
    const release = this.leases.get(key);
    this.leases.delete(key);
    await release?.();
  }
}
