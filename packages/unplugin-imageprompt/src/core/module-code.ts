/**
 * The JavaScript a prompt-file import becomes: one module, no imports. Each image's URL is an
 * expression the asset emitter gave (a bundler file reference in builds, a served path in dev), so
 * the bundler never sees the cached blobs as modules of their own. Every other value (they come from
 * a manifest, which may come from another machine) enters the code only through JSON.stringify, so
 * that no value, however it slipped through, can become code.
 */
import type { ImageMetadata, ImageResult } from 'imageprompt';
import type { ExportShape } from './options.js';
import type { ResponsiveCode } from './responsive-images.js';

/**
 * One link of a chain as an import exports it (`steps`): the generation or first step, then each step
 * on the image before it. `key` is null where an earlier step is a placeholder (its input does not
 * exist yet, so the step cannot be keyed).
 */
export interface ImportedStep {
  key: string | null;
  route: 'image/generate' | 'images/generations' | 'image/upscale' | 'image/background-remove' | 'image/edit' | 'image/multi-edit';
  /** `generate (z-image-turbo)`, `remove background`, `upscale 2×`, `edit (firered-image-edit)`. */
  label: string;
  width: number;
  height: number;
  format: 'webp' | 'png' | 'jpeg';
  status: 'cached' | 'generated' | 'placeholder' | 'missing';
}

/**
 * `urls` and `responsive` are expressions the plugin made (asset references, and `srcset` strings
 * joined from them), one per image.
 */
export function moduleCode(result: ImageResult, shape: ExportShape, urls: string[], responsive?: ResponsiveCode[]): string {
  const placeholder = result.status === 'placeholder' || result.status === 'missing';
  const variants = result.images.map((image, i) => {
    const fields = `src: ${urls[i]}, width: ${value(image.width)}, height: ${value(image.height)}, format: ${value(image.format)}`;
    const sizes = responsive?.[i] ? `, srcset: ${responsive[i].srcset}, sources: ${responsive[i].sources}` : '';
    const meta = image.meta ? metadataFields(image.meta) : '';
    return `  { ${fields}${sizes}${meta ? `, ${meta}` : ''} },`;
  });
  const head = [
    `export const alt = ${result.alt === undefined ? 'undefined' : value(result.alt)};`,
    `export const seed = ${value(result.seed)};`,
    `export const key = ${value(result.key)};`,
    `/** True when these are local placeholder drawings, not the generated images. */`,
    `export const placeholder = ${value(placeholder)};`,
    `/** A chain's links (the generation or first step, then each step): key, route, size, status; empty for one request. */`,
    `export const steps = ${value((result.steps ?? []).map(({ key, route, label, width, height, format, status }): ImportedStep => ({ key, route, label, width, height, format, status })))};`,
    'export const variants = [',
    ...variants,
    '];',
  ];
  // 'image-import': the default export is the image itself, shaped as Astro's ImageMetadata (which
  // <Image> and getImage() take); 'image-object' adds the prompt file's fields beside it
  const defaultExport = shape === 'image-import' ? 'export default variants[0];' : 'export default { ...variants[0], alt, variants, seed, key, placeholder, steps };';
  return [...head, defaultExport, ''].join('\n');
}

/**
 * The module of an import with `url` (`?imageprompt&url`): the first image's URL as its default
 * export, as a bundler's own image import gives it, and nothing else for the bundler to carry.
 */
export function urlModuleCode(url: string): string {
  return `export default ${url};\n`;
}

/**
 * The blur-up placeholder, ThumbHash, colour and aspect ratio as properties of the image's object
 * (absent ones left out), written in place rather than spread from an object literal, which Vite,
 * Rolldown and Rollup bundle measurably slower (docs/performance.md).
 */
function metadataFields(meta: ImageMetadata): string {
  const { blurDataURL, thumbhash, color, aspectRatio } = meta;
  return Object.entries({ blurDataURL, thumbhash, color, aspectRatio })
    .filter(([, field]) => field !== undefined)
    .map(([name, field]) => `${name}: ${value(field)}`)
    .join(', ');
}

/**
 * A value as a JavaScript literal: JSON, with the two line separators JSON allows in strings and
 * `<` escaped, so that the text is safe in any script context. `undefined` (JSON has none) stays so.
 */
function value(data: unknown): string {
  const json = JSON.stringify(data);
  if (json === undefined) return 'undefined';
  return json.replace(/[<\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
