/**
 * The shared cache's protocol over a RemoteBackend:
 *
 *   <prefix>/entries/<key>.json    manifest (uploaded last; never overwritten)
 *   <prefix>/blobs/<sha256>.<ext>  image bytes, named by their digest
 *   <prefix>/leases/<key>.json     "a machine is generating this key", where creates can be conditional
 *
 * Every operation runs with bounded concurrency, its own timeout and the engine's retry policy for
 * faults a retry can mend. A remote that keeps failing is set aside for the rest of the run after one
 * warning; a refused upload turns uploads off after one warning. Nothing here can put a wrong image
 * in a build: every blob is hashed as it streams in and checked before the local commit.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LocalWriteError } from '../atomic-file.js';
import { cacheWriteError } from '../cache-write-failure.js';
import { manifestKey, MANIFEST_VERSION, type CacheEntry, type CacheStore, type Manifest, type StagedOutput } from '../cache-store.js';
import { GenerationQueue } from '../generation-queue.js';
import type { Logger } from '../logger.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry-policy.js';
import { signManifest, verifyManifest } from './manifest-signature.js';
import { RemoteError, type RemoteBackend } from './remote-backend.js';

export interface RemoteCacheOptions {
  backend: RemoteBackend;
  /** `read`: never writes; `write`: uploads what this machine generates. */
  mode: 'read' | 'write';
  signingKey: Buffer | undefined;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Per operation. @default 30000 */
  timeoutMs?: number;
  /** Operations at once. @default 8 */
  concurrency?: number;
  /** How long a lease holds another machine off. @default 600000 */
  leaseMs?: number;
}

export interface RemoteManifest extends Manifest {
  signature?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RemoteCache {
  readonly backend: RemoteBackend;
  readonly mode: 'read' | 'write';
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly slots: GenerationQueue;
  private down: string | undefined;
  private uploadsOff = false;
  private warned = new Set<string>();
  private conditional: Promise<boolean> | undefined;
  private manifests = new Map<string, Promise<RemoteManifest | undefined>>();
  /** Bytes downloaded and uploaded, for progress. */
  bytesIn = 0;
  bytesOut = 0;

  constructor(private readonly options: RemoteCacheOptions) {
    this.backend = options.backend;
    this.mode = options.mode;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.slots = new GenerationQueue(options.concurrency ?? 8);
  }

  get available(): boolean {
    return this.down === undefined;
  }

  private warnOnce(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.options.logger.warn(message);
  }

  /**
   * Runs one remote operation: in a slot, with a timeout per try and retries for retryable faults.
   * A final retryable failure sets the remote aside for the rest of the run.
   */
  private async op<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.down) throw new RemoteError(this.down, false);
    return this.slots.slot(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await task(AbortSignal.timeout(this.timeoutMs));
        } catch (error) {
          const failure = error instanceof RemoteError ? error : new RemoteError((error as Error).message, !(error instanceof LocalWriteError));
          if (error instanceof LocalWriteError) throw error;
          if (!failure.retryable) throw failure;
          if (attempt >= this.retry.maxAttempts) {
            this.down = failure.message;
            this.warnOnce('down', `the shared cache at ${this.backend.label} is not answering (${failure.message}); this run goes on with the local cache only`);
            throw failure;
          }
          await sleep(backoffDelay(attempt, this.retry));
        }
      }
    });
  }

  /** A small object (a manifest, a lease) read whole as text, or undefined when there is none. */
  private getText(path: string): Promise<string | undefined> {
    return this.op(async (signal) => {
      const body = await this.backend.get(path, signal);
      if (!body) return undefined;
      const parts: Uint8Array[] = [];
      for await (const part of body.stream) parts.push(part);
      return Buffer.concat(parts).toString('utf8');
    });
  }

  /** The entry's manifest on the remote, checked (shape, key, signature), or undefined; fetched once a run. */
  manifest(key: string): Promise<RemoteManifest | undefined> {
    let found = this.manifests.get(key);
    if (!found) {
      found = this.fetchManifest(key);
      this.manifests.set(key, found);
      // a miss may be filled by another machine later in the run: only hits are remembered
      void found.then((m) => m ?? this.manifests.delete(key));
    }
    return found;
  }

  private async fetchManifest(key: string): Promise<RemoteManifest | undefined> {
    let text: string;
    try {
      const found = await this.getText(`entries/${key}.json`);
      if (found === undefined) return undefined;
      text = found;
    } catch (error) {
      this.readFailed(error);
      return undefined;
    }
    let manifest: RemoteManifest;
    try {
      manifest = JSON.parse(text) as RemoteManifest;
    } catch {
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} is not JSON; treated as a miss`);
      return undefined;
    }
    if (manifest?.version !== MANIFEST_VERSION || manifest.key !== key || !Array.isArray(manifest.outputs) || manifest.outputs.length === 0) {
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} has an unknown shape; treated as a miss`);
      return undefined;
    }
    if (manifestKey(manifest) !== key) {
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} does not belong to its key (its request was changed on the server); treated as a miss`);
      return undefined;
    }
    const { signingKey } = this.options;
    if (signingKey) {
      const { signature, ...signed } = manifest;
      if (!verifyManifest(signed, signature, signingKey)) {
        this.warnOnce(
          `sig:${key}`,
          `the shared cache's entry ${key.slice(0, 12)} is ${signature === undefined ? 'unsigned' : 'not signed with IMAGEPROMPT_REMOTE_SIGNING_KEY'}; treated as a miss (it may have been written by a job without the key, or tampered with)`,
        );
        return undefined;
      }
    }
    return manifest;
  }

  /**
   * Fetches the entry into the local cache: every blob streamed to a staged file and hashed as it
   * arrives, checked against its digest, and only then committed. Resolves to the local entry, or
   * undefined for a miss (absent, damaged, unsigned, or the remote down).
   */
  async restore(key: string, local: CacheStore): Promise<CacheEntry | undefined> {
    const manifest = await this.manifest(key);
    if (!manifest) return undefined;
    const staged: StagedOutput[] = [];
    try {
      for (const output of manifest.outputs) {
        const path = `blobs/${output.file.replace(/^blobs\//, '')}`;
        const file = await this.op(async (signal) => {
          const body = await this.backend.get(path, signal);
          if (!body) throw new RemoteError(`blob ${path} is missing`, false);
          const counted = this.count(body.stream);
          // no flush to disk: a blob lost in a crash is downloaded again, not paid for again
          return local.stage(counted, undefined, false);
        });
        staged.push({ staged: file, format: output.format, width: output.width, height: output.height, ...(output.meta ? { meta: output.meta } : {}) });
        if (file.digest !== output.digest || file.size !== output.bytes) {
          this.warnOnce(`blob:${output.digest}`, `the shared cache's blob ${path} does not match its digest (changed on the server); entry ${key.slice(0, 12)} is treated as a miss`);
          await local.discard(staged.map((s) => s.staged));
          return undefined;
        }
      }
    } catch (error) {
      await local.discard(staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, local.dir, 'nothing was paid for');
      this.readFailed(error);
      return undefined;
    }
    const { signature: _signature, outputs: _outputs, ...rest } = manifest;
    try {
      return { ...(await local.commit(rest, staged, false)), origin: 'remote' };
    } catch (error) {
      await local.discard(staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, local.dir, 'nothing was paid for');
      throw error;
    }
  }

  private async *count(stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of stream) {
      this.bytesIn += chunk.length;
      yield chunk;
    }
  }

  private readFailed(error: unknown): void {
    if (this.down) return;
    this.warnOnce(`read:${(error as Error).message}`, `could not read from the shared cache at ${this.backend.label} (${(error as Error).message}); treated as a miss`);
  }

  /** Whether the store honours `If-None-Match: *` on PUT: probed once per run. */
  honoursConditionalCreate(): Promise<boolean> {
    this.conditional ??= (async () => {
      const path = `leases/.probe-${hostname()}-${process.pid}-${Date.now()}`;
      try {
        const first = await this.op((signal) => this.backend.put(path, Buffer.from('probe'), 5, { ifAbsent: true }, signal));
        const second = await this.op((signal) => this.backend.put(path, Buffer.from('probe'), 5, { ifAbsent: true }, signal));
        await this.op((signal) => this.backend.remove(path, signal)).catch(() => undefined);
        return first && !second;
      } catch {
        return false;
      }
    })();
    return this.conditional;
  }

  /**
   * Uploads a local entry: blobs first (skipped when present), the manifest last and only if the
   * remote has none (conditional create, and a check first for stores that ignore it). Resolves to
   * what happened; a failure warns once and never throws: the image is safe locally.
   */
  async upload(entry: CacheEntry): Promise<'uploaded' | 'present' | 'failed' | 'off'> {
    if (this.mode !== 'write' || this.uploadsOff || this.down) return 'off';
    const { key } = entry.manifest;
    try {
      if (await this.op((signal) => this.backend.exists(`entries/${key}.json`, signal))) return 'present';
      for (const [i, output] of entry.manifest.outputs.entries()) {
        const path = `blobs/${output.file.replace(/^blobs\//, '')}`;
        if (await this.op((signal) => this.backend.exists(path, signal))) continue;
        const file = entry.paths[i]!;
        const size = (await stat(file)).size;
        await this.op((signal) => this.backend.put(path, () => this.countOut(createReadStream(file)), size, { contentType: `image/${output.format}` }, signal));
      }
      const manifest: RemoteManifest = { ...entry.manifest };
      if (this.options.signingKey) manifest.signature = signManifest(entry.manifest, this.options.signingKey);
      const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      const created = await this.op((signal) => this.backend.put(`entries/${key}.json`, text, text.length, { ifAbsent: true, contentType: 'application/json' }, signal));
      return created ? 'uploaded' : 'present';
    } catch (error) {
      const failure = error as RemoteError;
      if (failure.status === 401 || failure.status === 403) {
        this.uploadsOff = true;
        this.warnOnce('refused', `uploads to the shared cache at ${this.backend.label} are refused (${failure.message}); images stay in the local cache, and \`imageprompt push\` uploads them with credentials that may write`);
      } else if (!this.down) {
        this.warnOnce(`upload:${failure.message}`, `could not upload entry ${key.slice(0, 12)} to the shared cache at ${this.backend.label} (${failure.message}); it is safe in the local cache, and \`imageprompt push\` uploads it later`);
      }
      return 'failed';
    }
  }

  private async *countOut(stream: AsyncIterable<unknown>): AsyncIterable<Uint8Array> {
    for await (const chunk of stream) {
      this.bytesOut += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }

  /**
   * What the remote holds, for `prune --remote`: entry keys, and blobs with the digests every
   * entry names (read without the signature check: an entry kept is an entry whose blobs stay).
   */
  async inventory(): Promise<{ entries: string[]; blobs: { path: string; digest: string }[]; named: Map<string, string[] | undefined> }> {
    const list = this.backend.list?.bind(this.backend);
    if (!list) throw new RemoteError(`${this.backend.label} cannot list its objects; pruning the shared cache needs S3 or a storage driver`, false);
    const entries = (await this.op((signal) => list('entries', signal))).map((p) => /^entries\/([0-9a-f]{64})\.json$/.exec(p)?.[1]).filter((k): k is string => k !== undefined);
    const blobs = (await this.op((signal) => list('blobs', signal)))
      .map((path) => ({ path, digest: /^blobs\/([0-9a-f]{64})\.[a-z]+$/.exec(path)?.[1] }))
      .filter((b): b is { path: string; digest: string } => b.digest !== undefined);
    const named = new Map<string, string[] | undefined>();
    for (const key of entries) {
      const text = await this.getText(`entries/${key}.json`);
      let digests: string[] | undefined;
      try {
        digests = text === undefined ? undefined : (JSON.parse(text) as Manifest).outputs.map((o) => o.digest);
      } catch {
        digests = undefined;
      }
      named.set(key, digests);
    }
    return { entries, blobs, named };
  }

  removeObject(path: string): Promise<void> {
    return this.op((signal) => this.backend.remove(path, signal));
  }

  /**
   * Takes the key's lease where the store honours conditional creates, so that another machine
   * missing the same key waits for this one's upload. Resolves to its release, or to undefined when
   * another machine holds a live lease (`held`) or leases cannot work here (`none`).
   */
  async lease(key: string): Promise<{ release: () => Promise<void> } | 'held' | 'none'> {
    if (this.mode !== 'write' || this.down || !(await this.honoursConditionalCreate())) return 'none';
    const path = `leases/${key}.json`;
    const leaseMs = this.options.leaseMs ?? 600_000;
    const body = Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, until: Date.now() + leaseMs }));
    try {
      for (let round = 0; round < 2; round++) {
        if (await this.op((signal) => this.backend.put(path, body, body.length, { ifAbsent: true, contentType: 'application/json' }, signal))) {
          return { release: () => this.op((signal) => this.backend.remove(path, signal)).catch(() => undefined) };
        }
        // someone holds it: live, or expired (then removed and tried once more)
        const found = await this.getText(path);
        if (found === undefined) continue;
        const until = (JSON.parse(found) as { until?: number }).until ?? 0;
        if (until > Date.now()) return 'held';
        await this.op((signal) => this.backend.remove(path, signal));
      }
      return 'held';
    } catch {
      return 'none';
    }
  }
}
