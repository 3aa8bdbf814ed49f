/**
 * Directives in an import's query, named as vite-imagetools names them, that override the prompt
 * file's `responsive` field for that one import: `w` (widths, `;`-separated) and `format` (formats,
 * in `<picture>` order). `imageprompt` marks the import as ours wherever it stands in the query, so
 * both `?imageprompt&w=480;960&format=avif` and `?w=480;960&format=avif&imageprompt` (which the
 * `*&imageprompt` type declaration matches) work. `url` (`?imageprompt&url`) makes the import the
 * first image's URL alone, as a bundler's own image import gives, with nothing else to carry. Anything
 * else in the query is an error that names the import and the directive, not something silently dropped.
 */
import { DEFAULT_DERIVED_FORMATS, DERIVED_FORMATS, ImagePromptError, MAX_DERIVED_WIDTH, MIN_DERIVED_WIDTH, type DerivedFormat, type ResponsiveSpec } from 'imageprompt/hits';

export const IMPORT_FLAG = 'imageprompt';
const DIRECTIVES = ['w', 'format', 'url'] as const;

export interface ImportDirectives {
  widths?: number[];
  formats?: DerivedFormat[];
  /** The import is the first image's URL, nothing else (`?imageprompt&url`). */
  url?: true;
}

/** The query of a prompt-file import, if it is ours: the directives after the flag, canonical (sorted), or '' for none. */
export function directivesOf(query: string | undefined): string | undefined {
  if (query === undefined) return '';
  const parts = query.split('&').filter(Boolean);
  if (!parts.includes(IMPORT_FLAG)) return undefined;
  return parts
    .filter((p) => p !== IMPORT_FLAG)
    .sort()
    .join('&');
}

/** The directives of `raw` (from `directivesOf`), checked; `where` names the import in errors. */
export function parseDirectives(raw: string, where: string): ImportDirectives {
  const directives: ImportDirectives = {};
  if (!raw) return directives;
  for (const part of raw.split('&')) {
    const [name = '', value = ''] = part.split('=', 2);
    const fail = (message: string, hint: string) =>
      new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: where, field: `?${name}`, message: `the import's "${name}" ${message}`, hint });
    if (name === 'w') {
      const widths = value.split(';').map((w) => Number(w));
      if (!value || widths.some((w) => !Number.isInteger(w) || w < MIN_DERIVED_WIDTH || w > MAX_DERIVED_WIDTH)) throw fail(`is "${value}", not widths of ${MIN_DERIVED_WIDTH} to ${MAX_DERIVED_WIDTH} px`, 'write the widths in pixels, separated by ";": ?imageprompt&w=480;960');
      if (new Set(widths).size !== widths.length) throw fail('lists a width twice', 'list each width once');
      directives.widths = [...widths].sort((a, b) => a - b);
    } else if (name === 'format') {
      const formats = value.split(';') as DerivedFormat[];
      const unknown = formats.find((f) => !DERIVED_FORMATS.includes(f));
      if (!value || unknown !== undefined) throw fail(`has "${unknown ?? ''}", which is not a format`, `use ${DERIVED_FORMATS.join(', ')}, separated by ";": ?imageprompt&format=avif;webp`);
      if (new Set(formats).size !== formats.length) throw fail('lists a format twice', 'list each format once');
      directives.formats = formats;
    } else if (name === 'url') {
      if (part !== 'url') throw fail(`takes no value (it is "${value}")`, 'write it alone: ?imageprompt&url');
      directives.url = true;
    } else {
      const near = DIRECTIVES.find((d) => name.toLowerCase().startsWith(d) || (name === 'width' && d === 'w') || (name === 'formats' && d === 'format'));
      throw fail('is not a directive imageprompt knows', `${near ? `did you mean "${near}"? ` : ''}the directives are w (widths), format (formats) and url (the URL alone); anything else belongs in the prompt file`);
    }
  }
  if (directives.url && (directives.widths || directives.formats)) {
    throw new ImagePromptError({
      code: 'INVALID_PROMPT_FILE',
      file: where,
      field: '?url',
      message: `the import asks for the URL alone (url) and for responsive sizes (${directives.widths ? 'w' : 'format'}), which only the image object carries`,
      hint: 'import the sizes without url (?imageprompt&w=480;960) and use its srcset, or the URL alone with ?imageprompt&url',
    });
  }
  return directives;
}

/** The import's responsive spec: the prompt file's, with the import's directives in its place. */
export function applyDirectives(spec: ResponsiveSpec | undefined, directives: ImportDirectives, where: string): ResponsiveSpec | undefined {
  if (!directives.widths && !directives.formats) return spec;
  const widths = directives.widths ?? spec?.widths;
  if (!widths) {
    throw new ImagePromptError({
      code: 'INVALID_PROMPT_FILE',
      file: where,
      field: '?format',
      message: `the import names formats but no widths, and the prompt file has no "responsive" widths`,
      hint: 'add the widths to the import (&w=480;960) or "responsive": { "widths": [...] } to the prompt file',
    });
  }
  return { widths, formats: directives.formats ?? spec?.formats ?? [...DEFAULT_DERIVED_FORMATS] };
}
