/**
 * Placeholder images: drawn locally (no network), of the size and format the real image will have
 * (one drawing per size and format, shared by the requests that have it), and clearly marked
 * "placeholder". They live in their own
 * directory, never in the cache, so a later real build never mistakes one for a paid image.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-file.js';
import { expectedSize } from '../catalog/expected-size.js';
import { uniformImageMetadata, type ImageMetadata } from './image-metadata.js';
import type { NormalisedRequest } from '../prompt/normalise-request.js';
import type { ImageFormat } from '../prompt/prompt-schema.js';

export interface PlaceholderImage {
  path: string;
  width: number;
  height: number;
  format: ImageFormat;
  /** With `withMetadata`: the metadata of the drawing's average grey (see `uniformImageMetadata`). */
  meta?: ImageMetadata;
}

/** The drawing's two greys (#ececec and #d9d9d9 stripes) averaged: what it looks like blurred. */
const STRIPES_AVERAGE: [number, number, number] = [0xe3, 0xe3, 0xe3];

function svg(width: number, height: number, label: string): string {
  // as large as fits: a twelfth of the short side, and the label within the width
  const font = Math.max(8, Math.round(Math.min(Math.min(width, height) / 12, (width * 0.8) / (label.length * 0.6))));
  const stripe = Math.max(8, Math.round(Math.min(width, height) / 20));
  const text = label.replace(/[<>&"']/g, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><pattern id="s" width="${stripe * 2}" height="${stripe * 2}" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="${stripe}" height="${stripe * 2}" fill="#d9d9d9"/></pattern></defs>
<rect width="100%" height="100%" fill="#ececec"/><rect width="100%" height="100%" fill="url(#s)"/>
<rect x="${font}" y="${height / 2 - font}" width="${width - 2 * font}" height="${font * 2}" fill="#ffffff" fill-opacity="0.85"/>
<text x="50%" y="50%" dominant-baseline="middle" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#555">${text}</text>
</svg>`;
}

/**
 * The placeholders for a request: `token` draws them at most 32 px on the long side (for a frozen
 * build, which fails and shows nothing), while still reporting the size the real image will have.
 */
export async function placeholderImages(dir: string, request: NormalisedRequest, withMetadata = false, token = false): Promise<PlaceholderImage[]> {
  const { width, height } = expectedSize(request);
  const scale = token ? Math.min(1, 32 / Math.max(width, height)) : 1;
  const [drawWidth, drawHeight] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
  const format = request.format;
  // the drawing depends on its size and format alone: requests of one size share it
  const path = join(dir, `${width}x${height}${token ? '-token' : ''}.${format === 'jpeg' ? 'jpg' : format}`);
  let drawn = drawing.get(path);
  if (!drawn) {
    drawn = draw(path, drawWidth, drawHeight, `placeholder ${width}×${height}`, format);
    drawing.set(path, drawn);
    drawn.catch(() => drawing.delete(path));
  }
  await drawn;
  const meta = withMetadata ? { meta: await uniformImageMetadata(width, height, STRIPES_AVERAGE) } : {};
  return Array.from({ length: request.variants }, () => ({ path, width, height, format, ...meta }));
}

/** Drawings made or being made by this process, by path: many prompt files of one size at once draw once. */
const drawing = new Map<string, Promise<void>>();

async function draw(path: string, width: number, height: number, label: string, format: ImageFormat): Promise<void> {
  if (await stat(path).then(() => true, () => false)) return;
  await mkdir(dirname(path), { recursive: true });
  const { default: sharp } = await import('sharp');
  const image = sharp(Buffer.from(svg(width, height, label)));
  const bytes = await (format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg() : image.webp()).toBuffer();
  await writeFileAtomic(path, bytes);
}

/** Loads sharp ahead of need (a dev server at start, so that the first placeholder does not wait for it). */
export function preloadImageTools(): Promise<void> {
  return import('sharp').then(
    () => undefined,
    () => undefined,
  );
}
