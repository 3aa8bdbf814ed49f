/**
 * Types for prompt-file imports in Astro, injected by the integration (`astro:config:done`) and
 * exported as `unplugin-imageprompt/astro-types` for projects that reference them by hand.
 */
declare module '*.imageprompt.json?imageprompt' {
  /** Astro's ImageMetadata, with the blur-up fields (absent with `metadata: false`). */
  type PromptImage = import('astro').ImageMetadata & {
    /** A tiny blurred copy as a data: URL, for a CSS background while the image loads. */
    blurDataURL?: string;
    /** The image's ThumbHash, base64. */
    thumbhash?: string;
    /** The dominant colour, #rrggbb. */
    color?: string;
    /** Width divided by height. */
    aspectRatio?: number;
  };
  /** The first (or only) generated image, as a local image import gives it. */
  const image: PromptImage;
  export default image;
  /** Every generated image, the first included (more than one when "variants" > 1). */
  export const variants: PromptImage[];
  /** The prompt file's "alt" text. */
  export const alt: string | undefined;
  /** The seed the image was requested with. */
  export const seed: number;
  /** The request key: the cache entry's name. */
  export const key: string;
  /** True when the images are local placeholders (no key, or placeholder mode), not generated ones. */
  export const placeholder: boolean;
  /** A chain's links (`"then"`, or an `"api": "edit"` … file), each with its key and size; empty for a single request. */
  export const steps: import('unplugin-imageprompt').ImportedStep[];
}

/** The first image's URL alone, as a string (not ImageMetadata): `./hero.imageprompt.json?imageprompt&url`. */
declare module '*.imageprompt.json?imageprompt&url' {
  const src: string;
  export default src;
}
