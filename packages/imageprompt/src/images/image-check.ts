/**
 * What an image may be before it is cached or served: its pixel size is the size the request asks
 * for (exactly for pixel-sized models, the ratio and about the tier's area for aspect-ratio models),
 * within what any Venice route returns, and its byte count within what that many pixels can take.
 * The same bounds check images from Venice, from the shared cache and from a committed cache.
 */
import { expectedSize } from '../catalog/expected-size.js';
import type { NormalisedRequest } from '../prompt/normalise-request.js';

/** The longest side any route returns (4K tiers and 4× upscales stay under it). */
export const MAX_SIDE = 16_384;
/** The most pixels any route returns: Venice's upscale limit, with room for rounding to 16. */
export const MAX_PIXELS = Math.round(4096 * 4096 * 1.1);

/**
 * The most bytes an image of this many pixels can take in any of the three formats: 8 bytes a pixel
 * (16-bit RGBA, uncompressed) plus a megabyte of headers and metadata. Real images take a tenth.
 */
export function maxImageBytes(width: number, height: number): number {
  return width * height * 8 + 1024 * 1024;
}

/** The bound for an image of a request's expected size, before its header has been read. */
export function maxBytesFor(request: NormalisedRequest | undefined): number {
  if (!request) return maxImageBytes(4096, 4096);
  const { width, height } = expectedSize(request);
  // aspect-ratio models may return up to twice the tier's area (see sizeProblem)
  return maxImageBytes(width, height) * (request.aspect_ratio === undefined ? 1 : 2);
}

/**
 * Why an image of `actual` size does not answer `request`, or undefined when it does. Without a
 * request (another provider's route, whose sizes are its own), only the absolute bounds apply.
 */
export function sizeProblem(actual: { width: number; height: number }, request: NormalisedRequest | undefined): string | undefined {
  const { width, height } = actual;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) return `its size ${width}×${height} is not a pixel size`;
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) return `it declares ${width}×${height} pixels, more than any Venice route returns`;
  if (!request) return undefined;
  const expected = expectedSize(request);
  if (request.aspect_ratio === undefined) {
    if (width === expected.width && height === expected.height) return undefined;
    return `it is ${width}×${height} where ${expected.width}×${expected.height} was asked for`;
  }
  const ratio = width / height / (expected.width / expected.height);
  const area = (width * height) / (expected.width * expected.height);
  if (Math.abs(ratio - 1) <= 0.03 && area >= 0.4 && area <= 2) return undefined;
  return `it is ${width}×${height}, which is not aspect ratio ${request.aspect_ratio} at ${request.resolution ?? '1K'} (about ${expected.width}×${expected.height})`;
}
