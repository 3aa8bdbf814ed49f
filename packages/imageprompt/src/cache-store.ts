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
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { acquireLock, type LockOptions } from './cache-lock.js';
import { commitStaged, discardStaged, stageFile, writeFileAtomic, type StagedFile } from './atomic-file.js';
import type { Logger } from './logger.js';
import type { NormalisedRequest } from './normalise-request.js';
import type { ImageFormat } from './prompt-schema.js';

export const MANIFEST_VERSION = 1;
const STREAM_ABOVE_BYTES = 8 * 1024 * 1024;

export interface CachedOutput {
  /** sha256 of the image bytes, hex. */
  digest: string;
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  /** Path of the blob relative to the cache directory. */
  file: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  key: string;
  provider: string;
  request: NormalisedRequest;
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
  createdAt: string;
  durationMs: number;
  outputs: CachedOutput[];
}

export interface CacheEntry {
  manifest: Manifest;
  /** Absolute blob paths, in output order. */
  paths: string[];
}

export class CacheStore {
  readonly entriesDir: string;
  readonly blobsDir: string;
  readonly locksDir: string;
  private ready: Promise<void> | undefined;
  /** Blobs already verified by this process, by path, with the size and mtime seen then. */
  private verified = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.entriesDir = join(dir, 'entries');
    this.blobsDir = join(dir, 'blobs');
    this.locksDir = join(dir, 'locks');
  }

  private ensureDirs(): Promise<void> {
    this.ready ??= Promise.all([
      mkdir(this.entriesDir, { recursive: true }),
      mkdir(this.blobsDir, { recursive: true }),
      mkdir(this.locksDir, { recursive: true }),
    ]).then(() => undefined);
    return this.ready;
  }

  manifestPath(key: string): string {
    return join(this.entriesDir, `${key}.json`);
  }

  blobPath(digest: string, format: ImageFormat): string {
    return join(this.blobsDir, `${digest}.${format === 'jpeg' ? 'jpg' : format}`);
  }

  /** The entry for `key` if it is complete and every blob matches its digest. */
  async read(key: string): Promise<CacheEntry | undefined> {
    let manifest: Manifest;
    try {
      // synchronous: manifests are small and a build reads hundreds (see readPromptFile)
      manifest = JSON.parse(readFileSync(this.manifestPath(key), 'utf8')) as Manifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.logger.warn(`cache entry ${key.slice(0, 12)} is unreadable (${(error as Error).message}); it will be regenerated`);
      return undefined;
    }
    if (manifest.version !== MANIFEST_VERSION || manifest.key !== key || !Array.isArray(manifest.outputs) || manifest.outputs.length === 0) {
      this.logger.warn(`cache entry ${key.slice(0, 12)} has an unknown shape; it will be regenerated`);
      return undefined;
    }
    const paths: string[] = [];
    for (const output of manifest.outputs) {
      const path = this.blobPath(output.digest, output.format);
      const problem = await this.verifyBlob(path, output.digest);
      if (problem) {
        this.logger.warn(`cache blob ${output.file} ${problem}; the image will be regenerated`);
        return undefined;
      }
      paths.push(path);
    }
    return { manifest, paths };
  }

  private async verifyBlob(path: string, digest: string): Promise<string | undefined> {
    let info;
    try {
      info = statSync(path);
    } catch {
      return 'is missing';
    }
    const seen = `${info.size}:${info.mtimeMs}`;
    if (this.verified.get(path) === seen) return undefined;
    const hash = createHash('sha256');
    // small files in one synchronous read (most images); large ones streamed, so memory stays flat
    if (info.size <= STREAM_ABOVE_BYTES) hash.update(readFileSync(path));
    else for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== digest) return 'does not match its digest (changed on disk)';
    this.verified.set(path, seen);
    return undefined;
  }

  /** Streams image bytes to a temporary file beside the blobs. */
  async stage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<StagedFile> {
    await this.ensureDirs();
    return stageFile(this.blobsDir, chunks);
  }

  discard(staged: StagedFile[]): Promise<void> {
    return Promise.all(staged.map(discardStaged)).then(() => undefined);
  }

  /** Moves staged blobs into place, then writes the manifest that makes the entry visible. */
  async commit(manifest: Omit<Manifest, 'outputs'>, outputs: { staged: StagedFile; format: ImageFormat; width: number; height: number }[]): Promise<CacheEntry> {
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
        file: `blobs/${path.slice(this.blobsDir.length + 1)}`,
      });
      paths.push(path);
    }
    const complete: Manifest = { ...manifest, outputs: records };
    await writeFileAtomic(this.manifestPath(manifest.key), `${JSON.stringify(complete, null, 2)}\n`);
    return { manifest: complete, paths };
  }

  async lock(key: string): Promise<() => Promise<void>> {
    await this.ensureDirs();
    return acquireLock(join(this.locksDir, `${key}.lock`), this.lockOptions);
  }
}
