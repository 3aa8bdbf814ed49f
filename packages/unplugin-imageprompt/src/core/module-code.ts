/**
 * The JavaScript a prompt-file import becomes. Each cached image is imported by its file path, so
 * the bundler's own asset pipeline hashes and emits the bytes as they are (never re-encoded) and,
 * in Astro, makes the `ImageMetadata`.
 */
import type { ImageMetadata, ImageResult } from 'imageprompt';
import type { ExportShape } from './options.js';

export function moduleCode(result: ImageResult, shape: ExportShape): string {
  const imports = result.images.map((image, i) => `import image${i} from ${JSON.stringify(toImportPath(image.path))};`);
  const alt = `export const alt = ${result.alt === undefined ? 'undefined' : JSON.stringify(result.alt)};`;
  const placeholder = result.status === 'placeholder' || result.status === 'missing';
  const meta = [
    `export const seed = ${result.seed};`,
    `export const key = ${JSON.stringify(result.key)};`,
    `/** True when these are local placeholder drawings, not the generated images. */`,
    `export const placeholder = ${placeholder};`,
  ];
  if (shape === 'image-import') {
    // the blur-up fields ride on the bundler's own ImageMetadata object, which <Image> still accepts
    const extra = result.images.map((image, i) => (image.meta ? `Object.assign(image${i}, ${metadataFields(image.meta)});` : '')).filter(Boolean);
    return [
      ...imports,
      ...extra,
      alt,
      ...meta,
      `export const variants = [${result.images.map((_, i) => `image${i}`).join(', ')}];`,
      'export default image0;',
      '',
    ].join('\n');
  }
  const variants = result.images.map((image, i) => {
    const fields = `src: image${i}, width: ${image.width}, height: ${image.height}, format: ${JSON.stringify(image.format)}`;
    return `  { ${fields}${image.meta ? `, ...${metadataFields(image.meta)}` : ''} },`;
  });
  return [
    ...imports,
    alt,
    ...meta,
    'export const variants = [',
    ...variants,
    '];',
    'export default { ...variants[0], alt, variants, seed, key, placeholder };',
    '',
  ].join('\n');
}

/** The blur-up placeholder, ThumbHash, colour and aspect ratio as an object literal. */
function metadataFields(meta: ImageMetadata): string {
  const { blurDataURL, thumbhash, color, aspectRatio } = meta;
  return JSON.stringify({ blurDataURL, thumbhash, color, aspectRatio });
}

/** Forward slashes, so the path is a valid import specifier on every platform. */
function toImportPath(path: string): string {
  return path.replace(/\\/g, '/');
}
