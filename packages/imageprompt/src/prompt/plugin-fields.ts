/**
 * What every kind of prompt file shares: the text rule and the fields the plugin reads itself
 * (`$schema`, `alt`, `responsive`), never sent to Venice and never part of a request key.
 */
import { z } from 'zod';
import { DERIVED_FORMATS, MAX_DERIVED_WIDTH, MAX_DERIVED_WIDTHS, MIN_DERIVED_WIDTH } from '../images/responsive-spec.js';

/** Text fields may hold tabs and newlines, never other control characters (usually a paste accident). */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
export const text = () =>
  z.string().refine((s) => !CONTROL.test(s), {
    error: (issue) => {
      const input = String(issue.input);
      const index = input.search(CONTROL);
      return `contains a control character (U+${input.charCodeAt(index).toString(16).padStart(4, '0').toUpperCase()}) at position ${index + 1}; only tabs and newlines are allowed`;
    },
  });

const distinct = <T>(list: T[]) => new Set(list).size === list.length;

/** Fields the plugin reads itself; never sent to Venice, never part of the request key. */
export const pluginFields = {
  $schema: z.string(),
  alt: text(),
  /** Derived images made locally from the generated one: widths (px) and formats, for `srcset` and `<picture>`. */
  responsive: z.strictObject({
    widths: z
      .array(z.int('must be whole pixels').gte(MIN_DERIVED_WIDTH, `must be at least ${MIN_DERIVED_WIDTH}`).lte(MAX_DERIVED_WIDTH, `must be at most ${MAX_DERIVED_WIDTH}`))
      .min(1, 'must list at least one width')
      .max(MAX_DERIVED_WIDTHS, `must list at most ${MAX_DERIVED_WIDTHS} widths`)
      .refine(distinct, 'must not list a width twice'),
    formats: z
      .array(z.enum(DERIVED_FORMATS))
      .min(1, 'must list at least one format')
      .refine(distinct, 'must not list a format twice')
      .optional(),
  }),
} as const;

