/**
 * The seam between a prompt module and the bundler: each image is emitted by the plugin itself,
 * through the bundler's own asset API, and the module gets back a JavaScript expression for its
 * URL. One module per prompt import; the bytes are the cached bytes, never re-encoded; the file is
 * named after the prompt file (`hero-<hash>.webp`, `pears-1-<hash>.png`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { UnpluginBuildContext, UnpluginContext } from 'unplugin';
import { PROMPT_SUFFIX } from '../module-id.js';

export type HookContext = UnpluginBuildContext & UnpluginContext;

export interface ImageAsset {
  /** The prompt file the image belongs to. */
  promptFile: string;
  /** The readable stem of the emitted name: `hero`, or `pears-1` for the first of several variants. */
  name: string;
  /** File extension without the dot: `webp`, `png`, `jpg`, `avif`. */
  extension: string;
  /** Absolute path of the bytes: a verified cache blob, a placeholder drawing, or a derivative. */
  path: string;
  /** sha256 of the bytes when the cache already knows it (placeholders: null); a derivative's key. */
  digest: string | null;
  /** Settles when the file at `path` exists (a derivative still being encoded); absent when it does. */
  ready?: Promise<void>;
  /**
   * The id of the module that emits the image, as the bundler gave it to the load hook (query and
   * all, `…/hero.imageprompt.json?imageprompt&url`); absent: the prompt file. Farm keeps an emitted
   * file only while the module it names is in the build.
   */
  module?: string;
}

export interface AssetEmitter {
  /** Emits the image from a load hook; returns a JavaScript expression that evaluates to its URL. */
  emit(context: HookContext, asset: ImageAsset): Promise<string>;
}

/** The emitter with each image said to belong to `module`, the module the load hook is making. */
export function emitterFor(emitter: AssetEmitter, module: string): AssetEmitter {
  return { emit: (context, asset) => emitter.emit(context, { ...asset, module }) };
}

/** The asset for image `index` of `count` from a prompt file. */
export function imageAsset(promptFile: string, index: number, count: number, image: { path: string; digest: string | null }): ImageAsset {
  return { promptFile, name: imageStem(promptFile, index, count), extension: extname(image.path).slice(1), path: image.path, digest: image.digest };
}

/** The readable stem of image `index` of `count` from a prompt file: `hero`, or `pears-1`. */
export function imageStem(promptFile: string, index: number, count: number): string {
  const stem = basename(promptFile).slice(0, -PROMPT_SUFFIX.length) || 'image';
  return count > 1 ? `${stem}-${index + 1}` : stem;
}

/** Above this size a file is read without blocking; below it one synchronous read is several times cheaper. */
export const READ_SYNC_BELOW = 4 * 1024 * 1024;

/** The image's bytes with their sha256 (the cache's digest when known, so nothing is hashed twice). */
export async function assetBytes(asset: ImageAsset): Promise<{ bytes: Buffer; digest: string }> {
  await asset.ready;
  const size = statSync(asset.path).size;
  const bytes = size < READ_SYNC_BELOW ? readFileSync(asset.path) : await readFile(asset.path);
  return { bytes, digest: asset.digest ?? sha256(bytes) };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
