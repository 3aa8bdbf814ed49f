/**
 * The JavaScript a prompt-file import becomes: one module, no imports. Each image's URL is an
 * expression the asset emitter gave (a bundler file reference in builds, a served path in dev), so
 * the bundler never sees the cached blobs as modules of their own.
 */
import type { ImageMetadata, ImageResult } from 'imageprompt';
import type { ExportShape } from './options.js';

export function moduleCode(result: ImageResult, shape: ExportShape, urls: string[]): string {
  const placeholder = result.status === 'placeholder' || result.status === 'missing';
  const variants = result.images.map((image, i) => {
    const fields = `src: ${urls[i]}, width: ${image.width}, height: ${image.height}, format: ${JSON.stringify(image.format)}`;
    return `  { ${fields}${image.meta ? `, ...${metadataFields(image.meta)}` : ''} },`;
  });
  const head = [
    `export const alt = ${result.alt === undefined ? 'undefined' : JSON.stringify(result.alt)};`,
    `export const seed = ${result.seed};`,
    `export const key = ${JSON.stringify(result.key)};`,
    `/** True when these are local placeholder drawings, not the generated images. */`,
    `export const placeholder = ${placeholder};`,
    'export const variants = [',
    ...variants,
    '];',
  ];
  // 'image-import': the default export is the image itself, shaped as Astro's ImageMetadata (which
  // <Image> and getImage() take); 'image-object' adds the prompt file's fields beside it
  const defaultExport = shape === 'image-import' ? 'export default variants[0];' : 'export default { ...variants[0], alt, variants, seed, key, placeholder };';
  return [...head, defaultExport, ''].join('\n');
}

/** The blur-up placeholder, ThumbHash, colour and aspect ratio as an object literal. */
function metadataFields(meta: ImageMetadata): string {
  const { blurDataURL, thumbhash, color, aspectRatio } = meta;
  return JSON.stringify({ blurDataURL, thumbhash, color, aspectRatio });
}
