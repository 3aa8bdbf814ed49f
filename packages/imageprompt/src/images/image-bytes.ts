/** Recognises an image by its bytes and reads its pixel size: PNG, JPEG and WebP. */
import type { ImageFormat } from '../prompt/prompt-schema.js';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Bytes needed from the start of a file to know its format and size (JPEG may need more). */
export const IMAGE_HEADER_BYTES = 64 * 1024;

export function sniffImage(bytes: Uint8Array): ImageInfo | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (start: number, length: number) => String.fromCharCode(...bytes.subarray(start, start + length));
  if (bytes.length >= 24 && view.getUint32(0) === 0x89504e47 && view.getUint32(4) === 0x0d0a1a0a && ascii(12, 4) === 'IHDR') {
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8 ' && bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) {
      return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    }
    if (chunk === 'VP8L' && bytes[20] === 0x2f) {
      const bits = view.getUint32(21, true);
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8X') {
      const width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
      const height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
      return { format: 'webp', width, height };
    }
    return undefined;
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return sniffJpeg(bytes, view);
  return undefined;
}

function sniffJpeg(bytes: Uint8Array, view: DataView): ImageInfo | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = view.getUint16(offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) return { format: 'jpeg', height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    offset += 2 + length;
  }
  return undefined;
}

/**
 * Whether a file looks whole, from its first bytes, its last 16 and its size: PNG ends with IEND,
 * JPEG with the end-of-image marker, and WebP's RIFF header declares the exact size.
 */
export function looksComplete(format: ImageFormat, head: Uint8Array, tail: Uint8Array, size: number): boolean {
  const n = tail.length;
  if (format === 'png') return n >= 8 && String.fromCharCode(...tail.subarray(n - 8, n - 4)) === 'IEND';
  if (format === 'jpeg') {
    let end = n;
    while (end > 2 && tail[end - 1] === 0x00) end -= 1;
    return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9;
  }
  if (head.length < 8) return false;
  return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, true) + 8 === size;
}
