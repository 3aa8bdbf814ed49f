/**
 * Files that appear whole or not at all: bytes go to a temporary file in the destination's own
 * directory (so the final rename never crosses a file system), are flushed, then renamed into place.
 * A process killed at any moment leaves at most a `.tmp-*` file, which no reader looks at.
 */
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';

/** A short tag of this host, so that a temporary file's owner can be told apart on a shared disk. */
export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** `.tmp-<host>-<pid>-<random>`: whoever finds it can tell whether its writer is still alive. */
export function tempPathFor(directory: string): string {
  return join(directory, `${TEMP_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** The host tag and pid in a temporary file's name, or undefined for a name not made by {@link tempPathFor}. */
export function tempOwner(name: string): { host: string; pid: number } | undefined {
  const match = /^\.tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{12}$/.exec(name);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

/**
 * A failure of the local file system (a full disk, a permission, a read-only mount), as opposed to
 * a failure of the source being read. Callers must not treat it as a network fault.
 */
export class LocalWriteError extends Error {
  constructor(
    readonly path: string,
    readonly cause: NodeJS.ErrnoException,
  ) {
    super(`${path}: ${cause.code ?? cause.message}`);
    this.name = 'LocalWriteError';
  }

  get code(): string | undefined {
    return this.cause.code;
  }
}

/** Runs a file-system step, marking its failure as local. */
export async function local<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof LocalWriteError) throw error;
    throw new LocalWriteError(path, error as NodeJS.ErrnoException);
  }
}

/**
 * `durable: false` skips the flush to disk: for files that can be fetched again (restored from the
 * shared cache), where a crash costs a download, not a paid generation. @default true
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { durable?: boolean } = {}): Promise<void> {
  const temp = tempPathFor(dirname(path));
  const handle = await local(temp, () => open(temp, 'wx'));
  try {
    await local(temp, async () => {
      await handle.writeFile(data);
      if (options.durable !== false) await handle.sync();
    });
    await local(temp, () => handle.close());
    await local(path, () => rename(temp, path));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Creates a directory (and its parents), marking a failure as local. */
export function makeDirectory(path: string): Promise<void> {
  return local(path, () => mkdir(path, { recursive: true })).then(() => undefined);
}

/** A file written to a temporary name and hashed on the way, waiting to be kept or dropped. */
export interface StagedFile {
  tempPath: string;
  /** sha256 of the contents, hex. */
  digest: string;
  size: number;
  /** The first bytes (for format sniffing) and the last 16 (for completeness checks). */
  head: Uint8Array;
  tail: Uint8Array;
  /** Set when writing to the first directory failed and the file was finished in the fallback one. */
  fellBack?: LocalWriteError;
}

const HEAD_BYTES = 64 * 1024;

export interface StageOptions {
  /**
   * Where to finish the file if writing in `directory` fails (a full disk, say): what was written is
   * copied over and the rest of the source follows, so bytes that cannot be fetched again are kept.
   */
  fallbackDirectory?: string;
  /** Flush to disk before returning; see {@link writeFileAtomic}. @default true */
  durable?: boolean;
}

/**
 * Streams chunks into a temporary file in `directory`, hashing as it goes; nothing is held whole in
 * memory. A failure to write throws {@link LocalWriteError} (unless the fallback directory takes
 * over); a failure of the source itself is thrown as it came.
 */
export async function stageFile(
  directory: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: StageOptions = {},
): Promise<StagedFile> {
  let target = await openTarget(directory, options.fallbackDirectory);
  let fellBack = target.fellBack;
  const hash = createHash('sha256');
  const headParts: Uint8Array[] = [];
  let headSize = 0;
  let tail: Uint8Array = new Uint8Array(0);
  let size = 0;
  // moves the written prefix and this chunk to the fallback directory after a failed write
  const fallBack = async (failure: LocalWriteError, pending: Uint8Array | undefined): Promise<void> => {
    if (!options.fallbackDirectory || fellBack) throw failure;
    fellBack = failure;
    const from = target;
    try {
      await makeDirectory(options.fallbackDirectory);
      target = await openTarget(options.fallbackDirectory);
      await local(target.path, async () => {
        if (size > 0) for await (const part of createReadStream(from.path, { start: 0, end: size - 1 })) await writeAll(target.handle, part as Buffer);
        if (pending) await writeAll(target.handle, pending);
      });
    } finally {
      await from.handle.close().catch(() => undefined);
      await unlink(from.path).catch(() => undefined);
    }
  };
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      try {
        await local(target.path, () => writeAll(target.handle, chunk));
      } catch (error) {
        await fallBack(error as LocalWriteError, chunk);
      }
      size += chunk.length;
      if (headSize < HEAD_BYTES) {
        headParts.push(chunk.subarray(0, HEAD_BYTES - headSize));
        headSize += Math.min(chunk.length, HEAD_BYTES - headSize);
      }
      tail = chunk.length >= 16 ? chunk.subarray(chunk.length - 16) : concat([tail, chunk]).subarray(-16);
    }
    if (options.durable !== false) {
      try {
        await local(target.path, () => target.handle.sync());
      } catch (error) {
        await fallBack(error as LocalWriteError, undefined);
        await local(target.path, () => target.handle.sync());
      }
    }
    await local(target.path, () => target.handle.close());
  } catch (error) {
    await target.handle.close().catch(() => undefined);
    await unlink(target.path).catch(() => undefined);
    throw error;
  }
  const digest = hash.digest('hex');
  if (fellBack && (await digestOf(target.path)) !== digest) {
    // the prefix read back from the failing disk was not what was written
    await unlink(target.path).catch(() => undefined);
    throw fellBack;
  }
  return { tempPath: target.path, digest, size, head: concat(headParts), tail: Uint8Array.from(tail), ...(fellBack ? { fellBack } : {}) };
}

/**
 * Writes the whole chunk. A file handle's write may write only part of it (a disk filling up
 * writes what fits and reports the count); the next call then fails with the real error.
 */
async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes were written'), { code: 'EIO' });
    offset += bytesWritten;
  }
}

interface Target {
  path: string;
  handle: FileHandle;
  fellBack?: LocalWriteError;
}

async function openTarget(directory: string, fallbackDirectory?: string): Promise<Target> {
  const path = tempPathFor(directory);
  try {
    return { path, handle: await local(path, () => open(path, 'wx')) };
  } catch (error) {
    if (!fallbackDirectory) throw error;
    await makeDirectory(fallbackDirectory);
    const target = await openTarget(fallbackDirectory);
    return { ...target, fellBack: error as LocalWriteError };
  }
}

/** sha256 of a file, streamed. */
export async function digestOf(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Moves a staged file to `path`; if an identical file is already there, keeps that one. */
export async function commitStaged(staged: StagedFile, path: string): Promise<void> {
  if (dirname(staged.tempPath) !== dirname(path)) throw new Error(`staged file ${basename(staged.tempPath)} is not beside ${path}`);
  await local(path, () => rename(staged.tempPath, path));
}

export async function discardStaged(staged: StagedFile): Promise<void> {
  await unlink(staged.tempPath).catch(() => undefined);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
