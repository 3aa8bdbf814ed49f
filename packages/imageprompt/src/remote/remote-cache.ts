/**
 * The shared cache's protocol over a RemoteBackend:
 *
 *   <prefix>/entries/<key>.json    manifest (uploaded last; never overwritten)
 *   <prefix>/blobs/<sha256>.<ext>  image bytes, named by their digest
 *   <prefix>/leases/<key>.json     "a machine is generating this key", where creates can be conditional
 *
 * Every operation runs with bounded concurrency and one deadline for the whole of it (headers and
 * body). A cache is worth asking only while it answers quickly: the first timeout or refused
 * connection, or a 5xx that a few more tries do not mend, sets the remote aside for the rest of the
 * run after one warning, and every operation still queued gives up at once (outage-breaker.ts says
 * what is tried again). A refused upload turns uploads off after one warning. Nothing here can put
 * a wrong image in a build: manifests pass the schema (manifest-schema.ts) and belong to their key,
 * every body is read within its bound, and every blob is hashed as it streams in and checked
 * (digest, size, format, pixels) before the local commit. An entry found damaged (a blob gone or
 * changed) is repaired by this machine's upload.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LocalWriteError } from '../cache/atomic-file.js';
import { cacheWriteError } from '../cache/cache-write-failure.js';
import { headerProblem, manifestKey } from '../cache/cache-store.js';
import type { CacheEntry, LocalCache, Manifest, StagedOutput } from '../cache/cache-port.js';
import { BodyTooLarge, capped, MAX_MANIFEST_BYTES, readCapped } from '../http/bounded-body.js';
import { blobName, checkManifest } from '../cache/manifest-schema.js';
import { processIsGone, releaseOnInterrupt } from '../cache/process-exit.js';
import type { Logger } from '../logger.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../http/retry-policy.js';
import { EntryProblem, OutageBreaker } from './outage-breaker.js';
import { signManifest, verifyManifest } from './manifest-signature.js';
import { RemoteError, type ListedObject, type RemoteBackend } from './remote-backend.js';

/** Where fetched blobs are staged: the local cache's staging, without its entries. */
export type BlobStager = Pick<LocalCache, 'stage' | 'discard' | 'dir'>;

export interface RemoteCacheOptions {
  backend: RemoteBackend;
  /** `read`: never writes; `write`: uploads what this machine generates. */
  mode: 'read' | 'write';
  signingKey: Buffer | undefined;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** For the whole of one operation, body included. @default 10000 */
  timeoutMs?: number;
  /** Operations at once. @default 8 */
  concurrency?: number;
  /** How long a lease holds another machine off. @default 600000 */
  leaseMs?: number;
}

export interface RemoteManifest extends Manifest {
  signature?: string;
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;

/** A lease names its holder, so that the holder's own next run does not wait for itself. */
interface LeaseRecord {
  host: string;
  pid: number;
  until: number;
  /** Which taking of the lease this is: two that raced both see whose write stayed. */
  nonce?: string;
}

/**
 * How long a lease just created is left before it is read back. Some stores check `If-None-Match: *`
 * and write in two steps (Apache's mod_dav does), so two creates at the same instant can both be
 * told 201; the second write lands within moments, and after this pause only the machine whose
 * record stayed goes on.
 */
const LEASE_SETTLE_MS = 250;

export class RemoteCache {
  readonly backend: RemoteBackend;
  readonly mode: 'read' | 'write';
  private readonly breaker: OutageBreaker;
  private uploadsOff = false;
  private warned = new Set<string>();
  private conditional: Promise<boolean> | undefined;
  private manifests = new Map<string, Promise<RemoteManifest | undefined>>();
  /** Entries whose manifest is on the remote but whose blobs are missing or damaged: uploads repair them. */
  private damaged = new Set<string>();
  /** Bytes downloaded and uploaded, for progress. */
  bytesIn = 0;
  bytesOut = 0;

  constructor(private readonly options: RemoteCacheOptions) {
    this.backend = options.backend;
    this.mode = options.mode;
    this.breaker = new OutageBreaker(
      this.backend.label,
      options.logger,
      { ...DEFAULT_RETRY_POLICY, ...options.retry },
      options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
      options.concurrency ?? 8,
    );
  }

  get available(): boolean {
    return this.breaker.available;
  }

  /** One remote operation, through the breaker (see outage-breaker.ts). */
  private op<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.breaker.run(task);
  }

  private warnOnce(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.options.logger.warn(message);
  }

  /** A small object (a manifest, a lease) read whole as text, at most a megabyte, or undefined when there is none. */
  private getText(path: string): Promise<string | undefined> {
    return this.op(async (signal) => {
      const body = await this.backend.get(path, signal);
      if (!body) return undefined;
      if (body.size !== undefined && body.size > MAX_MANIFEST_BYTES) {
        await abandon(body.stream);
        throw new BodyTooLarge(`${path} (${body.size} bytes)`, MAX_MANIFEST_BYTES);
      }
      return (await readCapped(body.stream, MAX_MANIFEST_BYTES, path)).toString('utf8');
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
      if (error instanceof BodyTooLarge) {
        this.damaged.add(key);
        this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} is larger than a manifest can be (${error.message}); treated as a miss`);
      } else this.readFailed(error);
      return undefined;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      this.damaged.add(key);
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} is not JSON; treated as a miss`);
      return undefined;
    }
    const checked = checkManifest(data, key);
    if ('problem' in checked) {
      this.damaged.add(key);
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} is not a valid manifest (${checked.problem}); treated as a miss`);
      return undefined;
    }
    const manifest: RemoteManifest = checked.manifest;
    if (manifestKey(manifest) !== key) {
      this.damaged.add(key);
      this.warnOnce(`bad:${key}`, `the shared cache's entry ${key.slice(0, 12)} does not belong to its key (its request was changed on the server); treated as a miss`);
      return undefined;
    }
    const { signingKey } = this.options;
    if (signingKey) {
      const { signature, ...signed } = manifest;
      if (!verifyManifest(signed, signature, signingKey)) {
        // for a machine holding the key, an entry no holder of the key signed is one to replace
        this.damaged.add(key);
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
   * Whether the entry is on the remote whole: a valid manifest, and each blob it names present with
   * its size (where the store says sizes). What `check` and `plan` call "in the shared cache".
   */
  async holds(key: string): Promise<boolean> {
    const manifest = await this.manifest(key);
    if (!manifest) return false;
    try {
      for (const output of manifest.outputs) {
        const path = `blobs/${blobName(output.digest, output.format)}`;
        if (!(await this.op((signal) => this.backend.exists(path, signal)))) {
          this.markDamaged(key, `its blob ${path} is missing`);
          return false;
        }
      }
      return true;
    } catch (error) {
      this.readFailed(error);
      return false;
    }
  }

  private markDamaged(key: string, why: string): void {
    this.damaged.add(key);
    this.manifests.delete(key);
    this.warnOnce(`damaged:${key}`, `the shared cache's entry ${key.slice(0, 12)} is damaged (${why}); treated as a miss, and repaired by the next upload of this key`);
  }

  /**
   * Fetches the entry's images into staged files beside the local cache: every blob streamed and
   * hashed as it arrives, then checked (digest, size, format, pixels). Resolves to the manifest and
   * the staged images, which the caller commits (see remote-layer.ts), or undefined for a miss
   * (absent, damaged, unsigned, or the remote down). Nothing here writes the local cache's entries.
   */
  async fetch(key: string, local: BlobStager): Promise<{ manifest: Omit<Manifest, 'outputs'>; staged: StagedOutput[] } | undefined> {
    const manifest = await this.manifest(key);
    if (!manifest) return undefined;
    const staged: StagedOutput[] = [];
    try {
      for (const output of manifest.outputs) {
        // the path is made from the checked digest and format, never read from the manifest
        const path = `blobs/${blobName(output.digest, output.format)}`;
        const file = await this.op(async (signal) => {
          const body = await this.backend.get(path, signal);
          if (!body) throw new DamagedEntry(`its blob ${path} is missing`);
          if (body.size !== undefined && body.size !== output.bytes) {
            await abandon(body.stream);
            throw new DamagedEntry(`its blob ${path} does not match its digest (changed on the server: ${body.size} bytes where the manifest says ${output.bytes})`);
          }
          // never more than the manifest's byte count, which the schema bounds by the pixel size;
          // no flush to disk: a blob lost in a crash is downloaded again, not paid for again
          return local.stage(capped(this.count(body.stream), output.bytes, path), undefined, false);
        });
        staged.push({ staged: file, format: output.format, width: output.width, height: output.height, ...(output.meta ? { meta: output.meta } : {}) });
        const problem =
          file.digest !== output.digest || file.size !== output.bytes ? 'does not match its digest (changed on the server)' : headerProblem(file.head, output);
        if (problem) throw new DamagedEntry(`its blob ${path} ${problem}`);
      }
    } catch (error) {
      await local.discard(staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, local.dir, 'nothing was paid for');
      if (error instanceof DamagedEntry || error instanceof BodyTooLarge) this.markDamaged(key, error.message);
      else this.readFailed(error);
      return undefined;
    }
    const { signature: _signature, outputs: _outputs, ...rest } = manifest;
    return { manifest: rest, staged };
  }

  private async *count(stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of stream) {
      this.bytesIn += chunk.length;
      yield chunk;
    }
  }

  private readFailed(error: unknown): void {
    if (!this.breaker.available) return;
    this.warnOnce(`read:${(error as Error).message}`, `could not read from the shared cache at ${this.backend.label} (${(error as Error).message}); treated as a miss`);
  }

  /** Whether the store honours `If-None-Match: *` on PUT: probed once per run. */
  honoursConditionalCreate(): Promise<boolean> {
    this.conditional ??= (async () => {
      const path = `leases/.probe-${hostname()}-${process.pid}-${Date.now()}`;
      try {
        // the first create may answer "present" when a try of it was retried after its write had
        // landed: only a store that honours the condition can say so, and the second create tells
        await this.op((signal) => this.backend.put(path, Buffer.from('probe'), 5, { ifAbsent: true }, signal));
        const second = await this.op((signal) => this.backend.put(path, Buffer.from('probe'), 5, { ifAbsent: true }, signal));
        // tidying up, not the store answering: a failure here does not set the shared cache aside
        await this.backend.remove(path, AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS)).catch(() => undefined);
        return !second;
      } catch (error) {
        this.warnOnce(
          'probe',
          `could not tell whether the shared cache at ${this.backend.label} honours conditional creates (${(error as Error).message}); leases are off for this run, so another machine missing the same image at the same time may pay for it too`,
        );
        return false;
      }
    })();
    return this.conditional;
  }

  /**
   * Uploads a local entry: blobs first (skipped when present), the manifest last and only if the
   * remote has none (conditional create, and a check first for stores that ignore it). An entry the
   * remote holds damaged (its manifest invalid, or a blob it names missing or changed) is repaired:
   * this entry's blobs are put and its manifest replaces the broken one. Resolves to what happened;
   * a failure warns once and never throws: the image is safe locally.
   */
  async upload(entry: CacheEntry): Promise<'uploaded' | 'repaired' | 'present' | 'failed' | 'off'> {
    if (this.mode !== 'write' || this.uploadsOff || !this.breaker.available) return 'off';
    const { key } = entry.manifest;
    try {
      const manifestPath = `entries/${key}.json`;
      let repair = this.damaged.has(key);
      if (!repair && (await this.op((signal) => this.backend.exists(manifestPath, signal)))) {
        // present: whole (then nothing to do), or damaged, which a look at it and its blobs tells
        if (await this.holds(key)) return 'present';
        repair = this.damaged.has(key);
        if (!repair) return 'present';
      }
      for (const [i, output] of entry.manifest.outputs.entries()) {
        const path = `blobs/${blobName(output.digest, output.format)}`;
        if (!repair && (await this.op((signal) => this.backend.exists(path, signal)))) continue;
        const file = entry.paths[i]!;
        const size = (await stat(file)).size;
        await this.op((signal) => this.backend.put(path, () => this.countOut(createReadStream(file)), size, { contentType: `image/${output.format}` }, signal));
      }
      const manifest: RemoteManifest = { ...entry.manifest };
      if (this.options.signingKey) manifest.signature = signManifest(entry.manifest, this.options.signingKey);
      const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      // a damaged entry is replaced; a whole one is never overwritten
      const created = await this.op((signal) => this.backend.put(manifestPath, text, text.length, { ifAbsent: !repair, contentType: 'application/json' }, signal));
      if (repair) {
        this.damaged.delete(key);
        this.manifests.delete(key);
        return 'repaired';
      }
      if (created) return 'uploaded';
      // told "present" although the look before found none: another machine's upload landed in
      // between, or this one's did on a try whose answer was lost (see outage-breaker.ts); the
      // stored bytes tell which
      return (await this.getText(manifestPath).catch(() => undefined)) === text.toString('utf8') ? 'uploaded' : 'present';
    } catch (error) {
      const failure = error as RemoteError;
      // said once by the breaker, which set the shared cache aside
      if (failure.misconfigured) return 'failed';
      if (failure.status === 401 || failure.status === 403) {
        this.uploadsOff = true;
        this.warnOnce('refused', `uploads to the shared cache at ${this.backend.label} are refused (${failure.message}); images stay in the local cache, and \`imageprompt push\` uploads them with credentials that may write`);
      } else if (!!this.breaker.available) {
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
   * What the remote holds, for `prune --remote`: entry keys, and blobs, each with its age where the
   * store tells it, and the digests every entry names (read without the signature check: an entry
   * kept is an entry whose blobs stay; undefined when its manifest is not valid).
   */
  async inventory(): Promise<RemoteInventory> {
    const list = this.backend.list?.bind(this.backend);
    if (!list) throw new RemoteError(`${this.backend.label} cannot list its objects; pruning the shared cache needs S3 or a storage driver`, false);
    const now = Date.now();
    const ageOf = (item: ListedObject) => (item.modifiedMs === undefined ? undefined : now - item.modifiedMs);
    const entries = (await this.op((signal) => list('entries', signal)))
      .map((item) => ({ key: /^entries\/([0-9a-f]{64})\.json$/.exec(item.path)?.[1], ageMs: ageOf(item) }))
      .filter((e): e is { key: string; ageMs: number | undefined } => e.key !== undefined);
    const blobs = (await this.op((signal) => list('blobs', signal)))
      .map((item) => ({ path: item.path, digest: /^blobs\/([0-9a-f]{64})\.(webp|png|jpg)$/.exec(item.path)?.[1], ageMs: ageOf(item) }))
      .filter((b): b is { path: string; digest: string; ageMs: number | undefined } => b.digest !== undefined);
    const named = new Map<string, string[] | undefined>();
    for (const { key } of entries) {
      let digests: string[] | undefined;
      try {
        const text = await this.getText(`entries/${key}.json`);
        const checked = text === undefined ? undefined : checkManifest(JSON.parse(text), key);
        digests = checked && 'manifest' in checked ? checked.manifest.outputs.map((o) => o.digest) : undefined;
      } catch (error) {
        if (!(error instanceof SyntaxError || error instanceof BodyTooLarge)) throw error;
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
   * missing the same key waits for this one's upload. Resolves to its release, or to `held` when
   * another process holds a live lease, or `none` when leases cannot work here. A lease names its
   * holder (host and pid): one left by a process of this host that is gone (killed before it could
   * release it) is taken over at once instead of being waited out.
   */
  async lease(key: string): Promise<{ release: () => Promise<void> } | 'held' | 'none'> {
    if (this.mode !== 'write' || !this.breaker.available || !(await this.honoursConditionalCreate())) return 'none';
    const path = `leases/${key}.json`;
    const leaseMs = this.options.leaseMs ?? 600_000;
    const record: LeaseRecord = { host: hostname(), pid: process.pid, until: Date.now() + leaseMs, nonce: randomBytes(8).toString('hex') };
    const body = Buffer.from(JSON.stringify(record));
    const taken = async () => {
      // interrupted, the lease is removed before the process ends, so nobody waits out its time
      const forget = releaseOnInterrupt(() => this.op((signal) => this.backend.remove(path, signal)).catch(() => undefined));
      // created: but a create that raced this one may have been told so too (see LEASE_SETTLE_MS)
      await new Promise((resolve) => setTimeout(resolve, LEASE_SETTLE_MS));
      if (parseLease((await this.getText(path)) ?? '')?.nonce !== record.nonce) {
        forget();
        return 'held' as const;
      }
      const release = () => {
        forget();
        return this.op((signal) => this.backend.remove(path, signal)).catch(() => undefined);
      };
      return { release };
    };
    try {
      for (let round = 0; round < 2; round++) {
        if (await this.op((signal) => this.backend.put(path, body, body.length, { ifAbsent: true, contentType: 'application/json' }, signal))) return await taken();
        // someone holds it: live, expired or abandoned by a dead process here (then removed and tried once more)
        const found = await this.getText(path);
        if (found === undefined) continue;
        // a lease that does not parse may be one being written this instant (a store can serve a PUT
        // still in progress): it is held, and waited out like any other (see RemoteLayer.claim)
        const holder = parseLease(found);
        if (holder === undefined) return 'held';
        // this very record: a try of the create whose answer was lost, retried (see outage-breaker.ts)
        if (holder.nonce === record.nonce) return await taken();
        const abandoned = holder.until <= Date.now() || (holder.host === record.host && holder.pid !== process.pid && processIsGone(holder.pid));
        if (!abandoned) return 'held';
        await this.op((signal) => this.backend.remove(path, signal));
      }
      return 'held';
    } catch {
      return 'none';
    }
  }
}

export interface RemoteInventory {
  entries: { key: string; ageMs: number | undefined }[];
  blobs: { path: string; digest: string; ageMs: number | undefined }[];
  named: Map<string, string[] | undefined>;
}

/** An entry found damaged on the remote (a blob missing, of the wrong size or bytes). */
class DamagedEntry extends EntryProblem {}

/** Stops reading a body without reading it. */
async function abandon(stream: AsyncIterable<Uint8Array>): Promise<void> {
  await stream[Symbol.asyncIterator]().return?.();
}

/** A lease record read from the remote, or undefined when it is not one. */
function parseLease(text: string): LeaseRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseRecord>;
    if (typeof value.host === 'string' && Number.isInteger(value.pid) && typeof value.until === 'number') return value as LeaseRecord;
  } catch {
    // not JSON: no holder can be named
  }
  return undefined;
}
