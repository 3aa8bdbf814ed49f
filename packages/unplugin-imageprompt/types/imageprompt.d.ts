/**
 * Types for prompt-file imports in Vite and other bundlers:
 *   /// <reference types="unplugin-imageprompt/types" />
 *   import hero from './hero.imageprompt.json?imageprompt';
 * (With `resolveJsonModule`, a plain `.json` import is typed as the raw JSON; the `?imageprompt`
 * form is what these declarations match.)
 */
declare module '*.imageprompt.json?imageprompt' {
  export interface GeneratedImage {
    /** URL of the hashed asset the bundler emitted. */
    src: string;
    width: number;
    height: number;
    format: 'webp' | 'png' | 'jpeg';
  }
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
  /** The first image, with `alt`, `variants`, `seed`, `key` and `placeholder`. */
  const image: GeneratedImage & { alt: string | undefined; variants: GeneratedImage[]; seed: number; key: string; placeholder: boolean };
  export default image;
}
