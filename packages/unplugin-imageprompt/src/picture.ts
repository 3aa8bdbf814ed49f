/// <reference lib="dom" />
/**
 * `unplugin-imageprompt/picture`: a `<picture>` from an import whose prompt file has `"responsive"`,
 * for code that runs in the page (no Node, no bundler): `pictureElement` builds it with the DOM,
 * `pictureHtml` writes it as HTML (for server rendering, or `v-html` / `{@html}`), every value
 * escaped. One `<source>` per format in the order listed, then `<img>` with the fallback `srcset`,
 * `src`, the intrinsic `width` and `height` (no layout shift) and `alt`. `sizes` is yours: it says how
 * wide the image is shown, which only the page knows. An import without `"responsive"` gives a
 * `<picture>` holding just the `<img>`.
 */

export interface PictureImage {
  src: string;
  width: number;
  height: number;
  srcset?: string;
  sources?: { type: string; srcset: string }[];
}

export interface PictureOptions {
  /** How wide the image is shown, e.g. `"(max-width: 640px) 100vw, 640px"`. */
  sizes: string;
  alt?: string | undefined;
  /** @default 'lazy' */
  loading?: 'lazy' | 'eager';
  /** @default 'async' */
  decoding?: 'async' | 'sync' | 'auto';
  /** On the `<img>`. */
  className?: string;
}

/** The `<picture>` as DOM nodes. */
export function pictureElement(image: PictureImage, options: PictureOptions, doc: Document = document): HTMLPictureElement {
  const picture = doc.createElement('picture');
  for (const source of image.sources ?? []) {
    const element = doc.createElement('source');
    element.type = source.type;
    element.srcset = source.srcset;
    element.sizes = options.sizes;
    picture.append(element);
  }
  const img = doc.createElement('img');
  for (const [name, value] of Object.entries(imgAttributes(image, options))) img.setAttribute(name, value);
  picture.append(img);
  return picture;
}

/** The `<picture>` as HTML text, every attribute value escaped. */
export function pictureHtml(image: PictureImage, options: PictureOptions): string {
  const attributes = (values: Record<string, string>) =>
    Object.entries(values)
      .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
      .join('');
  const sources = (image.sources ?? []).map((s) => `<source${attributes({ type: s.type, srcset: s.srcset, sizes: options.sizes })}>`);
  return `<picture>${sources.join('')}<img${attributes(imgAttributes(image, options))}></picture>`;
}

function imgAttributes(image: PictureImage, options: PictureOptions): Record<string, string> {
  return {
    src: image.src,
    ...(image.srcset ? { srcset: image.srcset, sizes: options.sizes } : {}),
    width: String(image.width),
    height: String(image.height),
    alt: options.alt ?? '',
    loading: options.loading ?? 'lazy',
    decoding: options.decoding ?? 'async',
    ...(options.className ? { class: options.className } : {}),
  };
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
