/**
 * What a prompt file's `responsive` field asks for: the widths and formats of the derived images an
 * import carries beside the generated one (`srcset`, and a `<source>` per format). No schema library:
 * the hit index checks a record's spec with `isResponsiveSpec`; the prompt-file schema is in
 * `prompt/prompt-schema.ts`.
 */
export const DERIVED_FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;
export type DerivedFormat = (typeof DERIVED_FORMATS)[number];

export interface ResponsiveSpec {
  /** Ascending, distinct, in pixels. */
  widths: number[];
  /** In the order a `<picture>` lists them: the first the browser supports wins. */
  formats: DerivedFormat[];
}

/** Formats when the field names none: AVIF for browsers that take it, WebP for the rest. */
export const DEFAULT_DERIVED_FORMATS: DerivedFormat[] = ['avif', 'webp'];
export const MIN_DERIVED_WIDTH = 16;
export const MAX_DERIVED_WIDTH = 8192;
export const MAX_DERIVED_WIDTHS = 8;

export const MIME_TYPES: Record<DerivedFormat, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png' };

export function derivedExtension(format: DerivedFormat): string {
  return format === 'jpeg' ? 'jpg' : format;
}

/** Whether a value read from a file (the hit index) is a spec this version would have written. */
export function isResponsiveSpec(value: unknown): value is ResponsiveSpec {
  const spec = value as ResponsiveSpec;
  return (
    typeof spec === 'object' &&
    spec !== null &&
    Array.isArray(spec.widths) &&
    spec.widths.length >= 1 &&
    spec.widths.length <= MAX_DERIVED_WIDTHS &&
    spec.widths.every((w, i) => Number.isInteger(w) && w >= MIN_DERIVED_WIDTH && w <= MAX_DERIVED_WIDTH && (i === 0 || w > spec.widths[i - 1]!)) &&
    Array.isArray(spec.formats) &&
    spec.formats.length >= 1 &&
    spec.formats.length <= DERIVED_FORMATS.length &&
    spec.formats.every((f, i) => DERIVED_FORMATS.includes(f) && spec.formats.indexOf(f) === i)
  );
}
