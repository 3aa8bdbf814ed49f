/**
 * What a page shows before an image arrives, computed once when the image enters the cache and
 * stored with it: a tiny blurred copy as a `data:` URL (usable as next/image's `blurDataURL` and as a
 * CSS background), its ThumbHash, its dominant colour and its aspect ratio. sharp does the work, from
 * one downscaled copy of the image; a cache hit computes nothing.
 */
import { rgbaToThumbHash } from 'thumbhash';

export interface ImageMetadata {
  /** A blurred image of at most 16 px on its long side, as a `data:image/webp;base64,…` URL. */
  blurDataURL: string;
  /** The image's ThumbHash, base64. */
  thumbhash: string;
  /** The dominant colour, `#rrggbb`. */
  color: string;
  /** Width divided by height, to 4 decimals. */
  aspectRatio: number;
}

/** ThumbHash works on at most 100×100 pixels. */
const THUMB = 100;
const BLUR = 16;

export async function computeImageMetadata(path: string, width: number, height: number): Promise<ImageMetadata> {
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(path).resize(THUMB, THUMB, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const thumbhash = Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
  const raw = { raw: { width: info.width, height: info.height, channels: 4 as const } };
  const { dominant } = await sharp(data, raw).stats();
  const blurWidth = Math.max(1, Math.round(width >= height ? BLUR : (BLUR * width) / height));
  const blurHeight = Math.max(1, Math.round(height >= width ? BLUR : (BLUR * height) / width));
  const blur = await sharp(data, raw).resize(blurWidth, blurHeight, { fit: 'fill' }).blur(0.6).webp({ quality: 40, alphaQuality: 40 }).toBuffer();
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return {
    blurDataURL: `data:image/webp;base64,${blur.toString('base64')}`,
    thumbhash,
    color: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`,
    aspectRatio: Number((width / height).toFixed(4)),
  };
}
