/**
 * Files that appear whole or not at all: bytes go to a temporary file in the destination's own
 * directory (so the final rename never crosses a file system), are flushed, then renamed into place.
 * A process killed at any moment leaves at most a `.tmp-*` file, which no reader looks at.
 */
import { randomBytes, createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';

export function tempPathFor(directory: string): string {
  return join(directory, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(dirname(path));
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
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
}

const HEAD_BYTES = 64 * 1024;

/** Streams chunks into a temporary file in `directory`, hashing as it goes; nothing is held whole in memory. */
export async function stageFile(directory: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<StagedFile> {
  const tempPath = tempPathFor(directory);
  const handle = await open(tempPath, 'wx');
  const hash = createHash('sha256');
  const headParts: Uint8Array[] = [];
  let headSize = 0;
  let tail: Uint8Array = new Uint8Array(0);
  let size = 0;
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      await handle.write(chunk);
      size += chunk.length;
      if (headSize < HEAD_BYTES) {
        headParts.push(chunk.subarray(0, HEAD_BYTES - headSize));
        headSize += Math.min(chunk.length, HEAD_BYTES - headSize);
      }
      tail = chunk.length >= 16 ? chunk.subarray(chunk.length - 16) : concat([tail, chunk]).subarray(-16);
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return { tempPath, digest: hash.digest('hex'), size, head: concat(headParts), tail: Uint8Array.from(tail) };
}

/** Moves a staged file to `path`; if an identical file is already there, keeps that one. */
export async function commitStaged(staged: StagedFile, path: string): Promise<void> {
  if (dirname(staged.tempPath) !== dirname(path)) throw new Error(`staged file ${basename(staged.tempPath)} is not beside ${path}`);
  await rename(staged.tempPath, path);
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
