/**
 * Images committed in the project that an `"api": "edit" | "upscale" | …` prompt file starts from:
 * the path is relative to the prompt file and must stay inside the project root (symbolic links
 * followed), the file must be a PNG, JPEG or WebP under Venice's 25 MB limit, and what is kept is
 * the sha256 of its bytes (the key's input) and its stamp (what the hit index checks it by).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ImagePromptError } from '../errors/errors.js';
import { sniffImage } from '../images/image-bytes.js';
import type { ImageFormat } from '../images/image-formats.js';
import { sha256Hex } from '../prompt/request-key.js';
import { sameStamp, stampOf, type Stamp } from '../cache/hit-index.js';

/** Venice takes files under 25 MB (reference §6). */
export const MAX_SOURCE_BYTES = 25 * 1024 * 1024 - 1;

export interface SourceImage {
  /** Absolute path. */
  path: string;
  digest: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** The file's stamp while its bytes were read (unchanged from before to after the read). */
  stamp: Stamp;
}

/** Reads the committed image `written` (as the prompt file names it, in `field`); throws naming the field. */
export function readSourceImage(promptFile: string, written: string, root: string, fileName: string, field: string): SourceImage {
  const fail = (message: string, hint: string, cause?: unknown) => new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: fileName, field, message, hint, cause });
  const path = resolve(dirname(promptFile), written);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw fail(`names ${JSON.stringify(written)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of an image file relative to this prompt file', error);
  }
  if (!inside(realpathSync(root), real)) {
    throw fail(`names ${JSON.stringify(written)}, which is outside the project (${root})`, 'keep the images a prompt file edits inside the project, and name them relative to the prompt file');
  }
  let before: ReturnType<typeof statSync>;
  let bytes: Buffer;
  try {
    before = statSync(real);
    if (!before.isFile()) throw fail(`names ${JSON.stringify(written)}, which is not a file`, 'name an image file');
    if (before.size > MAX_SOURCE_BYTES) throw fail(`names an image of ${before.size} bytes; Venice takes files under 25 MB`, 'commit a smaller or more compressed image');
    bytes = readFileSync(real);
  } catch (error) {
    if (error instanceof ImagePromptError) throw error;
    throw fail(`names ${JSON.stringify(written)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check that the image is readable', error);
  }
  const info = sniffImage(bytes.subarray(0, 64 * 1024));
  if (!info) throw fail(`names ${JSON.stringify(written)}, which is not a PNG, JPEG or WebP image`, 'convert it to one of those formats');
  const stamp = stampOf(statSync(real));
  if (!sameStamp(stamp, stampOf(before))) throw fail(`names ${JSON.stringify(written)}, which changed while it was read`, 'build again once it is written');
  return { path: real, digest: sha256Hex(bytes), format: info.format, width: info.width, height: info.height, stamp };
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
