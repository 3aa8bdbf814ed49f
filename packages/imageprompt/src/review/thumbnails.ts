/**
 * Thumbnails for the review page: WebP, at most 320 px on the long side, made once with sharp and
 * kept beside the placeholders (`node_modules/.cache/imageprompt/thumbnails`), never in the cache
 * and never paid for. Named by the image's digest, so a thumbnail is never stale.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-file.js';

export const THUMBNAIL_SIZE = 320;

export async function thumbnail(dir: string, source: string, digest: string): Promise<string> {
  const path = join(dir, `${digest}-${THUMBNAIL_SIZE}.webp`);
  if (await stat(path).then(() => true, () => false)) return path;
  const { default: sharp } = await import('sharp');
  const bytes = await sharp(source).resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 70 }).toBuffer();
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path, bytes);
  return path;
}
