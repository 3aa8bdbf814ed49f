/**
 * The content-addressed cache on disk:
 *
 *   <cacheDir>/entries/<key>.json     manifest of one request (written last)
 *   <cacheDir>/blobs/<sha256>.<ext>   image bytes, named by the sha256 of their own contents
 *   <cacheDir>/locks/<key>.lock       held while a process generates that key
 *
 * An entry exists once its manifest exists, and a manifest is renamed into place only after all of
 * its blobs are, so a build killed at any moment leaves no entry that looks complete and is not.
 * Blobs are checked against their digest on read; a mismatch is a miss with a warning.
 *
 * A paid image that cannot be stored here (a full disk, a read-only directory) is kept in a rescue
 * folder outside the cache (`<tmp>/imageprompt-rescue/<key>/`), and the next generation of that key
 * takes it from there instead of paying again.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, type LockOptions } from './cache-lock.js';
import {
  HOST_TAG,
  LocalWriteError,
  TEMP_PREFIX,
  commitStaged,
  discardStaged,
  local,
  makeDirectory,
  stageFile,
  tempOwner,
  tempPathFor,
  writeFileAtomic,
  type StagedFile,
} from './atomic-file.js';
import { MANIFEST_VERSION, type CacheEntry, type CacheInventory, type CachedOutput, type EntryPlace, type LocalCache, type Manifest, type StagedOutput } from './cache-port.js';
import { cacheWriteError } from './cache-write-failure.js';
import { blobName, checkManifest } from './manifest-schema.js';
import { IMAGE_HEADER_BYTES, sniffImage } from '../images/image-bytes.js';
import type { ImageMetadata } from '../images/image-metadata.js';
import type { Logger } from '../logger.js';
import { OPENAI_ROUTE, openaiKey, type OpenAIRequest } from '../prompt/openai-route.js';
import { stepKey } from '../steps/step-request.js';
import { requestKey } from '../prompt/request-key.js';
import type { ImageFormat } from '../prompt/prompt-schema.js';

export { MANIFEST_VERSION };
export type { CacheEntry, CacheInventory, CachedOutput, Manifest, StagedOutput } from './cache-port.js';
const STREAM_ABOVE_BYTES = 8 * 1024 * 1024;

export class CacheStore implements LocalCache {
  readonly entriesDir: string;
  readonly blobsDir: string;
  readonly locksDir: string;
  private ready: Promise<void> | undefined;
  private swept: Promise<void> | undefined;
  /** Blobs already verified by this process, by path, with the size and mtime seen then. */
  private verified = new Map<string, string>();
  /** Warnings already given this run, so that each cache file is reported once. */
  private warned = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    private readonly lockOptions: LockOptions = {},
    /** Where paid images that cannot be stored in the cache are kept. */
    readonly rescueRoot: string = join(tmpdir(), 'imageprompt-rescue'),
  ) {
    this.entriesDir = join(dir, 'entries');
    this.blobsDir = join(dir, 'blobs');
    this.locksDir = join(dir, 'locks');
  }

  private ensureDirs(): Promise<void> {
    this.ready ??= Promise.all([makeDirectory(this.entriesDir), makeDirectory(this.blobsDir), makeDirectory(this.locksDir)]).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  manifestPath(key: string): string {
    return join(this.entriesDir, `${key}.json`);
  }

  /** Made from a checked digest and format only: no value from a manifest is ever part of a path. */
  blobPath(digest: string, format: ImageFormat): string {
    return join(this.blobsDir, blobName(digest, format));
  }

  rescueDir(key: string): string {
    return join(this.rescueRoot, key);
  }

  private warnOnce(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.logger.warn(message);
  }

  /**
   * The entry for `key` if its manifest passes the schema and belongs to the key, and every blob
   * matches its digest, format and pixel size; otherwise a miss with one warning.
   */
  async read(key: string): Promise<CacheEntry | undefined> {
    const manifest = this.readManifest(this.manifestPath(key), key, `cache entry ${key.slice(0, 12)}`);
    if (!manifest) return undefined;
    const paths: string[] = [];
    for (const output of manifest.outputs) {
      const path = this.blobPath(output.digest, output.format);
      const problem = await this.verifyBlob(path, output);
      if (problem) {
        this.warnOnce(path, `cache blob ${relativeBlob(output)} ${problem}; the image will be regenerated`);
        return undefined;
      }
      paths.push(path);
    }
    return { manifest, paths };
  }

  /** A manifest file read and checked (see manifest-schema.ts), or undefined with one warning. */
  private readManifest(path: string, key: string, what: string): Manifest | undefined {
    let data: unknown;
    try {
      // synchronous: manifests are small and a build reads hundreds (see readPromptFile)
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.warnOnce(path, `${what} is unreadable (${(error as Error).message}); it will be regenerated`);
      return undefined;
    }
    const checked = checkManifest(data, key);
    if ('problem' in checked) {
      this.warnOnce(path, `${what} is not a valid manifest (${checked.problem}); it will be regenerated`);
      return undefined;
    }
    const { signature: _signature, ...manifest } = checked.manifest;
    if (manifestKey(manifest) !== key) {
      this.warnOnce(path, `${what} does not belong to its key (its request was changed); it will be regenerated`);
      return undefined;
    }
    return manifest;
  }

  async has(key: string): Promise<EntryPlace | undefined> {
    return (await this.read(key)) ? 'local' : undefined;
  }

  /** Nothing is written behind the caller's back here. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  private async verifyBlob(path: string, output: CachedOutput): Promise<string | undefined> {
    let info;
    try {
      info = statSync(path);
    } catch {
      return 'is missing';
    }
    const seen = `${info.size}:${info.mtimeMs}`;
    if (this.verified.get(path) === seen) return undefined;
    if (info.size !== output.bytes) return `does not match its digest (changed on disk: ${info.size} bytes where its manifest says ${output.bytes})`;
    const hash = createHash('sha256');
    let head: Uint8Array;
    // small files in one synchronous read (most images); large ones streamed, so memory stays flat
    if (info.size <= STREAM_ABOVE_BYTES) {
      const bytes = readFileSync(path);
      hash.update(bytes);
      head = bytes.subarray(0, IMAGE_HEADER_BYTES);
    } else {
      const parts: Buffer[] = [];
      let kept = 0;
      for await (const chunk of createReadStream(path)) {
        hash.update(chunk as Buffer);
        if (kept < IMAGE_HEADER_BYTES) parts.push(chunk as Buffer), (kept += (chunk as Buffer).length);
      }
      head = Buffer.concat(parts).subarray(0, IMAGE_HEADER_BYTES);
    }
    if (hash.digest('hex') !== output.digest) return 'does not match its digest (changed on disk)';
    const problem = headerProblem(head, output);
    if (problem) return problem;
    this.verified.set(path, seen);
    return undefined;
  }

  /**
   * Proves, before anything is paid for, that this process can create files in the cache: the
   * directories exist or can be made, and a file can be written in each. Throws CACHE_WRITE_FAILED.
   */
  async checkWritable(): Promise<void> {
    try {
      await this.ensureDirs();
      for (const dir of [this.blobsDir, this.entriesDir]) await probe(dir);
    } catch (error) {
      if (!(error instanceof LocalWriteError)) throw error;
      throw cacheWriteError(error, this.dir, 'nothing was sent to Venice, so nothing was paid');
    }
    // the first process to write here after a crash clears what the crashed one left
    await (this.swept ??= this.sweepAbandoned().catch(() => undefined));
  }

  /** Removes temporary files whose writer provably died: same host and pid gone, or a day old. */
  private async sweepAbandoned(): Promise<void> {
    const inventory = await this.inventory();
    for (const temp of inventory.temps) if (temp.abandoned) await rm(join(this.dir, temp.file), { force: true });
  }

  /**
   * Streams image bytes to a temporary file beside the blobs. `durable: false` (bytes that can be
   * fetched again) skips the flush to disk.
   */
  async stage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, fallbackDirectory?: string, durable = true): Promise<StagedFile> {
    await this.ensureDirs();
    return stageFile(this.blobsDir, chunks, { ...(fallbackDirectory ? { fallbackDirectory } : {}), durable });
  }

  discard(staged: StagedFile[]): Promise<void> {
    return Promise.all(staged.map(discardStaged)).then(() => undefined);
  }

  /** Moves staged blobs into place, then writes the manifest that makes the entry visible. */
  async commit(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[], durable = true): Promise<CacheEntry> {
    await this.ensureDirs();
    const records: CachedOutput[] = [];
    const paths: string[] = [];
    for (const output of outputs) {
      const path = this.blobPath(output.staged.digest, output.format);
      await commitStaged(output.staged, path);
      const info = await stat(path);
      this.verified.set(path, `${info.size}:${info.mtimeMs}`);
      records.push({
        digest: output.staged.digest,
        format: output.format,
        width: output.width,
        height: output.height,
        bytes: output.staged.size,
        file: `blobs/${blobName(output.staged.digest, output.format)}`,
        ...(output.meta ? { meta: output.meta } : {}),
      });
      paths.push(path);
    }
    const complete: Manifest = { ...manifest, outputs: records };
    await writeFileAtomic(this.manifestPath(manifest.key), `${JSON.stringify(complete, null, 2)}\n`, { durable });
    return { manifest: complete, paths };
  }

  /**
   * Adds metadata to an entry made before it was computed: the manifest is rewritten whole and
   * atomically; the image bytes and the key are untouched.
   */
  async addMetadata(entry: CacheEntry, metas: (ImageMetadata | undefined)[]): Promise<CacheEntry> {
    const manifest: Manifest = { ...entry.manifest, outputs: entry.manifest.outputs.map((o, i) => (metas[i] ? { ...o, meta: metas[i] } : o)) };
    await writeFileAtomic(this.manifestPath(manifest.key), `${JSON.stringify(manifest, null, 2)}\n`);
    return { ...entry, manifest };
  }

  /**
   * Keeps a paid generation that the cache could not store: its images and manifest go to the
   * key's rescue folder. Resolves to the files kept; throws if even that fails.
   */
  async rescue(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[]): Promise<string[]> {
    const dir = this.rescueDir(manifest.key);
    await makeDirectory(dir);
    const records: CachedOutput[] = [];
    const kept: string[] = [];
    for (const output of outputs) {
      const name = blobName(output.staged.digest, output.format);
      const path = join(dir, name);
      // still staged, or already moved into blobs/ before the manifest failed (then copied: another entry may share it)
      const staged = existsSync(output.staged.tempPath);
      const source = staged ? output.staged.tempPath : this.blobPath(output.staged.digest, output.format);
      if (!staged || !(await rename(source, path).then(() => true, () => false))) {
        // on another file system: copied over, checked by its digest on the way
        const copy = await stageFile(dir, createReadStream(source));
        if (copy.digest !== output.staged.digest) throw new Error(`the copy of ${source} does not match its digest`);
        await rename(copy.tempPath, path);
        if (staged) await unlink(source).catch(() => undefined);
      }
      records.push({ digest: output.staged.digest, format: output.format, width: output.width, height: output.height, bytes: output.staged.size, file: name, ...(output.meta ? { meta: output.meta } : {}) });
      kept.push(path);
    }
    await writeFileAtomic(join(dir, 'entry.json'), `${JSON.stringify({ ...manifest, outputs: records }, null, 2)}\n`);
    return kept;
  }

  /**
   * Moves a rescued generation of `key` into the cache, if there is a whole one: the image was paid
   * for once and is not paid for again. Call with the key's lock held.
   */
  async recover(key: string): Promise<CacheEntry | undefined> {
    const dir = this.rescueDir(key);
    const manifest = this.readManifest(join(dir, 'entry.json'), key, `the rescued entry in ${dir}`);
    if (!manifest) return undefined;
    const staged: StagedOutput[] = [];
    try {
      for (const output of manifest.outputs) {
        const file = await this.stage(createReadStream(join(dir, blobName(output.digest, output.format))));
        staged.push({ staged: file, format: output.format, width: output.width, height: output.height, ...(output.meta ? { meta: output.meta } : {}) });
        if (file.digest !== output.digest) throw new Error(`${blobName(output.digest, output.format)} does not match its digest`);
        const problem = headerProblem(file.head, output);
        if (problem) throw new Error(`${blobName(output.digest, output.format)} ${problem}`);
      }
    } catch (error) {
      await this.discard(staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, this.dir, `the paid image is still kept in ${dir}`);
      this.warnOnce(dir, `the rescued image in ${dir} is damaged (${(error as Error).message}); it is left there and the image will be generated again`);
      return undefined;
    }
    const { outputs: _outputs, ...rest } = manifest;
    let entry: CacheEntry;
    try {
      entry = await this.commit(rest, staged);
    } catch (error) {
      await this.discard(staged.map((s) => s.staged));
      if (error instanceof LocalWriteError) throw cacheWriteError(error, this.dir, `the paid image is still kept in ${dir}`);
      throw error;
    }
    await rm(dir, { recursive: true, force: true });
    return entry;
  }

  async lock(key: string, options: LockOptions = {}): Promise<() => Promise<void>> {
    try {
      await this.ensureDirs();
    } catch (error) {
      if (error instanceof LocalWriteError) throw cacheWriteError(error, this.dir, 'nothing was sent to Venice, so nothing was paid');
      throw error;
    }
    return acquireLock(join(this.locksDir, `${key}.lock`), { ...this.lockOptions, ...options });
  }

  /** Every file in the cache, sorted into entries, blobs, temporary files and what does not belong. */
  async inventory(): Promise<CacheInventory> {
    const inventory: CacheInventory = { entries: [], blobs: [], temps: [], unexpected: [] };
    const now = Date.now();
    for (const [folder, kind] of [
      ['entries', 'entry'],
      ['blobs', 'blob'],
      ['locks', 'lock'],
      ['refs', 'ref'],
    ] as const) {
      for (const item of await readdir(join(this.dir, folder), { withFileTypes: true }).catch(() => [])) {
        const file = `${folder}/${item.name}`;
        const info = await stat(join(this.dir, file)).catch(() => undefined);
        if (!info) continue; // gone while listing
        if (!item.isFile()) {
          inventory.unexpected.push({ file, why: 'is not a regular file' });
          continue;
        }
        if (item.name.startsWith(TEMP_PREFIX)) {
          inventory.temps.push({ file, ageMs: now - info.mtimeMs, abandoned: isAbandonedTemp(item.name, now - info.mtimeMs) });
          continue;
        }
        if (kind === 'entry') {
          const key = /^([0-9a-f]{64})\.json$/.exec(item.name)?.[1];
          if (!key) inventory.unexpected.push({ file, why: 'is not named <key>.json' });
          else inventory.entries.push({ file, key, digests: this.digestsOf(join(this.dir, file), key) });
        } else if (kind === 'blob') {
          const digest = /^([0-9a-f]{64})\.(webp|png|jpg)$/.exec(item.name)?.[1];
          if (!digest) inventory.unexpected.push({ file, why: 'is not named <sha256>.<webp|png|jpg>' });
          else inventory.blobs.push({ file, digest, ageMs: now - info.mtimeMs });
        } else if (kind === 'ref') {
          if (!/^[0-9a-f]{32}\.json$/.test(item.name)) inventory.unexpected.push({ file, why: 'is not a key ref' });
        } else if (!item.name.endsWith('.lock') && !item.name.includes('.lock.takeover-')) {
          inventory.unexpected.push({ file, why: 'is not a lock' });
        }
      }
    }
    for (const item of await readdir(this.dir, { withFileTypes: true }).catch(() => [])) {
      // build-defaults.json: left by versions that recorded plugin defaults, read by nothing now
      if (!['entries', 'blobs', 'locks', 'refs', 'build-defaults.json'].includes(item.name)) inventory.unexpected.push({ file: item.name, why: 'is not part of the cache layout' });
    }
    return inventory;
  }

  /** The blob digests an entry names, or undefined when its manifest cannot be read. */
  private digestsOf(path: string, key: string): string[] | undefined {
    try {
      const checked = checkManifest(JSON.parse(readFileSync(path, 'utf8')), key);
      return 'manifest' in checked ? checked.manifest.outputs.map((o) => o.digest) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes one file named by its path in the cache (as the inventory gives it). */
  async remove(file: string): Promise<void> {
    await rm(join(this.dir, file), { force: true });
  }
}

/** A temporary file is abandoned when its writer is provably gone: on this host and dead, or a day old. */
const ABANDONED_AFTER_MS = 24 * 3600_000;
function isAbandonedTemp(name: string, ageMs: number): boolean {
  if (ageMs > ABANDONED_AFTER_MS) return true;
  const owner = tempOwner(name);
  if (!owner || owner.host !== HOST_TAG || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Creates, writes and removes a temporary file in `dir`; a kill halfway leaves an ordinary temporary file. */
async function probe(dir: string): Promise<void> {
  const path = tempPathFor(dir);
  await local(path, () => writeFile(path, 'probe', { flag: 'wx' }));
  await local(path, () => unlink(path));
}

/** The key a manifest's request hashes to: what a manifest from elsewhere must match. */
export function manifestKey(manifest: Pick<Manifest, 'request' | 'provider' | 'route' | 'sent'>): string {
  if (!manifest.route || !manifest.sent) return requestKey(manifest.request);
  if (manifest.route === OPENAI_ROUTE) return openaiKey(manifest.provider, manifest.sent as OpenAIRequest);
  return stepKey(manifest.route, manifest.sent as Record<string, unknown>);
}

/** Why an image's first bytes do not show the format and pixel size its manifest records, if they do not. */
export function headerProblem(head: Uint8Array, output: Pick<CachedOutput, 'format' | 'width' | 'height'>): string | undefined {
  const info = sniffImage(head);
  if (!info) return 'is not a PNG, JPEG or WebP image';
  if (info.format !== output.format || info.width !== output.width || info.height !== output.height) {
    return `is a ${info.width}×${info.height} ${info.format} image where its manifest says ${output.width}×${output.height} ${output.format}`;
  }
  return undefined;
}

function relativeBlob(output: CachedOutput): string {
  return `blobs/${blobName(output.digest, output.format)}`;
}
