/**
 * Draws the simulator's images: real bytes in the requested format and size, the same bytes for
 * the same request and seed, and a picture a person can tell apart from another request's
 * (background colours, shapes and the prompt's first words all derive from the request).
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { ImageFormat } from './generate-request.js';

export interface RenderInput {
  /** Everything that distinguishes the image: model, prompt, style, seed … in a stable order. */
  fingerprint: string;
  label: string;
  width: number;
  height: number;
  format: ImageFormat;
  blurred?: boolean;
  blackedOut?: boolean;
  /** Overlay grain that compresses about as badly as a photograph (for size and memory tests). */
  grain?: boolean;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

function svgFor(input: RenderInput): string {
  const digest = createHash('sha256').update(input.fingerprint).digest();
  const byte = (i: number) => digest[i % digest.length] ?? 0;
  const hue = (i: number) => Math.round((byte(i) / 255) * 360);
  const { width: w, height: h } = input;
  const shapes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const cx = Math.round((byte(4 + i * 3) / 255) * w);
    const cy = Math.round((byte(5 + i * 3) / 255) * h);
    const r = Math.round(((byte(6 + i * 3) / 255) * 0.25 + 0.05) * Math.min(w, h));
    const shapeHue = hue(20 + i);
    if (byte(26 + i) % 2 === 0) {
      shapes.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="hsl(${shapeHue},70%,55%)" fill-opacity="0.75"/>`);
    } else {
      shapes.push(
        `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" transform="rotate(${byte(i) % 90} ${cx} ${cy})" fill="hsl(${shapeHue},65%,45%)" fill-opacity="0.75"/>`,
      );
    }
  }
  const fontSize = Math.max(10, Math.round(Math.min(w, h) / 16));
  const label = escapeXml(input.label.slice(0, 40));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl(${hue(0)},60%,35%)"/><stop offset="1" stop-color="hsl(${hue(1)},60%,70%)"/>
</linearGradient></defs>
<rect width="${w}" height="${h}" fill="url(#g)"/>
${shapes.join('\n')}
<rect x="0" y="${h - fontSize * 2}" width="${w}" height="${fontSize * 2}" fill="black" fill-opacity="0.45"/>
<text x="${fontSize / 2}" y="${h - fontSize * 0.6}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="white">${label}</text>
</svg>`;
}

export async function renderImage(input: RenderInput): Promise<Buffer> {
  let image = input.blackedOut
    ? sharp({ create: { width: input.width, height: input.height, channels: 3, background: '#000000' } })
    : sharp(Buffer.from(svgFor(input)));
  if (input.blurred && !input.blackedOut) image = image.blur(Math.max(8, Math.round(input.width / 40)));
  if (input.grain && !input.blackedOut) {
    // gaussian grain, drawn natively: compresses about as badly as a photograph
    const grain = await sharp({ create: { width: input.width, height: input.height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 24 } } })
      .raw()
      .toBuffer();
    const base = await image.png({ compressionLevel: 1 }).toBuffer();
    image = sharp(base).composite([{ input: grain, raw: { width: input.width, height: input.height, channels: 3 }, blend: 'overlay' }]);
  }
  switch (input.format) {
    case 'png':
      return image.png(input.grain ? { compressionLevel: 2 } : {}).toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 85 }).toBuffer();
    default:
      return image.webp({ quality: 80 }).toBuffer();
  }
}

/** The PNG Venice returns in binary mode for a content violation. */
export async function violationPlaceholder(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000000' } }).png().toBuffer();
}
