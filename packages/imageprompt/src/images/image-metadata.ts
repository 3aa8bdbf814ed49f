/**
 * What a page shows before an image arrives, computed once when the image enters the cache and
 * stored with it: a tiny blurred copy as a `data:` URL (usable as next/image's `blurDataURL` and as a
 * CSS background), its ThumbHash, its dominant colour and its aspect ratio, all from one downscaled
 * copy of the image that sharp decodes; a cache hit computes nothing.
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

/** The size of the blurred copy for an image of `width` × `height`: at most 16 px on its long side. */
function blurSize(width: number, height: number): [number, number] {
  return [Math.max(1, Math.round(width >= height ? BLUR : (BLUR * width) / height)), Math.max(1, Math.round(height >= width ? BLUR : (BLUR * height) / width))];
}

/** A colour as `#rrggbb`. */
const hexColor = (r: number, g: number, b: number) => `#${[r, g, b].map((n) => n.toString(16).padStart(2, '0')).join('')}`;

/** Width divided by height, to 4 decimals. */
const aspectRatioOf = (width: number, height: number) => Number((width / height).toFixed(4));

const uniform = new Map<string, Promise<ImageMetadata>>();

/**
 * The metadata of an image of one colour, without decoding any image: what a placeholder drawing
 * (light grey stripes) looks like blurred. Dev servers draw many placeholders at once; this is
 * computed once per proportion and colour, where decoding each drawing took tens of milliseconds.
 */
export function uniformImageMetadata(width: number, height: number, [r, g, b]: [number, number, number]): Promise<ImageMetadata> {
  const [blurWidth, blurHeight] = blurSize(width, height);
  const color = hexColor(r, g, b);
  const aspectRatio = aspectRatioOf(width, height);
  const id = `${aspectRatio}:${color}`;
  let meta = uniform.get(id);
  if (!meta) {
    meta = import('sharp').then(async ({ default: sharp }) => {
      const blur = await sharp({ create: { width: blurWidth, height: blurHeight, channels: 3, background: { r, g, b } } }).webp({ quality: 40 }).toBuffer();
      // ThumbHash of a small uniform picture in the image's proportions
      const side = 32;
      const [w, h] = width >= height ? [side, Math.max(1, Math.round((side * height) / width))] : [Math.max(1, Math.round((side * width) / height)), side];
      const rgba = new Uint8Array(w * h * 4);
      for (let i = 0; i < rgba.length; i += 4) rgba.set([r, g, b, 255], i);
      return { blurDataURL: `data:image/webp;base64,${blur.toString('base64')}`, thumbhash: Buffer.from(rgbaToThumbHash(w, h, rgba)).toString('base64'), color, aspectRatio };
    });
    uniform.set(id, meta);
  }
  return meta;
}

export async function computeImageMetadata(path: string, width: number, height: number): Promise<ImageMetadata> {
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(path).resize(THUMB, THUMB, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const thumbhash = Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
  const raw = { raw: { width: info.width, height: info.height, channels: 4 as const } };
  const [blurWidth, blurHeight] = blurSize(width, height);
  const blur = await sharp(data, raw).resize(blurWidth, blurHeight, { fit: 'fill' }).blur(0.6).webp({ quality: 40, alphaQuality: 40 }).toBuffer();
  return {
    blurDataURL: `data:image/webp;base64,${blur.toString('base64')}`,
    thumbhash,
    color: dominantColor(data),
    aspectRatio: aspectRatioOf(width, height),
  };
}

/** The bin of a channel's value in sharp's colour histogram: 0–16 fall in the first, then 16 values each. */
const BIN = Uint8Array.from({ length: 256 }, (_, value) => Math.max(0, (value - 1) >> 4));

/**
 * The dominant colour of RGBA pixels, `#rrggbb`, as sharp's `stats().dominant` gives it: the middle
 * of the fullest of 16×16×16 colour bins, alpha left out; of bins equally full, the first with green,
 * then red, then blue the lowest (the order libvips scans its histogram in). Counted here from the
 * pixels already decoded: sharp's `stats()` also measures entropy and sharpness, and took 13 ms of
 * the 20 ms an image's metadata cost (64×64 images, this machine).
 */
export function dominantColor(rgba: Uint8Array): string {
  const bins = new Uint32Array(16 * 16 * 16);
  for (let i = 0; i + 3 < rgba.length; i += 4) bins[(BIN[rgba[i + 1]!]! << 8) | (BIN[rgba[i]!]! << 4) | BIN[rgba[i + 2]!]!]! += 1;
  let fullest = 0;
  for (let bin = 1; bin < bins.length; bin++) if (bins[bin]! > bins[fullest]!) fullest = bin;
  // each channel at the middle of its bin
  const middle = (level: number) => level * 16 + 8;
  return hexColor(middle((fullest >> 4) & 15), middle(fullest >> 8), middle(fullest & 15));
}
