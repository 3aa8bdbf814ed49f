/**
 * Types for prompt-file imports in Vite and other bundlers:
 *   /// <reference types="unplugin-imageprompt/types" />
 *   import hero from './hero.imageprompt.json?imageprompt';
 *   import small from './hero.imageprompt.json?w=320;640&format=avif;webp&imageprompt';
 *   import heroUrl from './hero.imageprompt.json?imageprompt&url';
 * (With `resolveJsonModule`, a plain `.json` import is typed as the raw JSON; the `?imageprompt`
 * form, and a query ending in `&imageprompt`, are what these declarations match.)
 */
declare namespace ImagePromptImport {
  interface GeneratedImage {
    /** URL of the hashed asset the bundler emitted. */
    src: string;
    width: number;
    height: number;
    format: 'webp' | 'png' | 'jpeg';
    /**
     * A tiny blurred copy as a `data:` URL (a few hundred bytes, same aspect ratio): next/image's
     * `blurDataURL`, or a CSS background while the image loads. Absent with `metadata: false`.
     */
    blurDataURL?: string;
    /** The image's ThumbHash, base64. Absent with `metadata: false`. */
    thumbhash?: string;
    /** The dominant colour, `#rrggbb`. Absent with `metadata: false`. */
    color?: string;
    /** Width divided by height. Absent with `metadata: false`. */
    aspectRatio?: number;
    /**
     * With `"responsive"` in the prompt file (or `w=` in the import): `<img srcset>` in the image's own
     * format (or the last format listed), `"…/hero-480w-<hash>.webp 480w, …"`. `sizes` is yours to give.
     */
    srcset?: string;
    /** With `"responsive"`: one `<source>` per format, in the order listed (AVIF first by default). */
    sources?: { type: string; srcset: string }[];
  }
  /** One link of a chain (`"then"`, or an `"api": "edit"` … file): its key, route, label, size and status. */
  type Step = import('unplugin-imageprompt').ImportedStep;
  /** The default export: the first image, with the prompt file's fields. */
  type Default = GeneratedImage & { alt: string | undefined; variants: GeneratedImage[]; seed: number; key: string; placeholder: boolean; steps: Step[] };
}

declare module '*.imageprompt.json?imageprompt' {
  export type GeneratedImage = ImagePromptImport.GeneratedImage;
  /** Every generated image, the first included (more than one when "variants" > 1). */
  export const variants: GeneratedImage[];
  /** The prompt file's "alt" text. */
  export const alt: string | undefined;
  /** The seed the image was requested with. */
  export const seed: number;
  /** The request key: the cache entry's name. */
  export const key: string;
  /** True when the images are local placeholders (no key, or placeholder mode), not generated ones. */
  export const placeholder: boolean;
  /** A chain's links, each with its key and size (the last is the image); empty for a single request. */
  export const steps: ImagePromptImport.Step[];
  /** The first image, with `alt`, `variants`, `seed`, `key`, `placeholder` and `steps`. */
  const image: ImagePromptImport.Default;
  export default image;
}

/** An import with directives, the flag last: `./hero.imageprompt.json?w=480;960&format=avif&imageprompt`. */
declare module '*&imageprompt' {
  export type GeneratedImage = ImagePromptImport.GeneratedImage;
  export const variants: GeneratedImage[];
  export const alt: string | undefined;
  export const seed: number;
  export const key: string;
  export const placeholder: boolean;
  export const steps: ImagePromptImport.Step[];
  const image: ImagePromptImport.Default;
  export default image;
}

/** The first image's URL alone, as an image file's import gives it: `./hero.imageprompt.json?imageprompt&url`. */
declare module '*.imageprompt.json?imageprompt&url' {
  const src: string;
  export default src;
}
