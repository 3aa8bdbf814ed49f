/**
 * When the cache cannot be written: one generation's staging that falls back to a rescue folder so
 * that nothing paid for is lost, and the error that names the path, what the system said and the fix.
 */
import { hostname } from 'node:os';
import { LocalWriteError, makeDirectory, stageFile, type StagedFile } from './atomic-file.js';
import type { LocalCache } from './cache-port.js';
import { ImagePromptError } from '../errors/errors.js';

/**
 * One generation's staging. Images go into the cache; if writing there fails, this and every later
 * image of the same generation are finished in the key's rescue folder instead, so nothing paid for
 * is lost, and `failure` says why. The engine then stops and tells the user where the images are.
 */
export class GenerationSink {
  failure: LocalWriteError | undefined;

  constructor(
    private readonly store: LocalCache,
    readonly key: string,
  ) {}

  async stage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<StagedFile> {
    const rescue = this.store.rescueDir(this.key);
    let staged: StagedFile;
    try {
      if (this.failure) {
        await makeDirectory(rescue);
        staged = await stageFile(rescue, chunks);
      } else {
        staged = await this.store.stage(chunks, rescue);
      }
    } catch (error) {
      if (!(error instanceof LocalWriteError)) throw error; // the source failed: Venice's side
      this.failure ??= error;
      throw cacheWriteError(this.failure, this.store.dir, 'Venice had already sent the image (and charged for it), but it could not be kept anywhere, so it is lost');
    }
    if (staged.fellBack) this.failure ??= staged.fellBack;
    return staged;
  }

  discard(staged: StagedFile[]): Promise<void> {
    return this.store.discard(staged);
  }
}

const WHAT: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EFBIG: 'the file is larger than this process may write',
  EIO: 'an input/output error',
};

/** The error for a cache that cannot be written: which path, what the system said, what to do. */
export function cacheWriteError(error: LocalWriteError, cacheDir: string, outcome: string): ImagePromptError {
  const code = error.code ?? 'an error';
  const fix =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `free space on the disk that holds ${cacheDir}`
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? `make ${cacheDir} writable by this user (${process.getuid?.() ?? 'this user'}@${hostname()})`
        : `check the disk that holds ${cacheDir}`;
  return new ImagePromptError({
    code: 'CACHE_WRITE_FAILED',
    message: `cannot write to the cache: ${error.path}: ${code} (${WHAT[code] ?? error.cause.message}); ${outcome}`,
    hint: `${fix}, or point cacheDir (IMAGEPROMPT_CACHE_DIR) at another directory, then build again`,
    cause: error.cause,
  });
}

