/**
 * Prompt-file imports resolve to a virtual id so that no other plugin treats them as JSON: Vite's
 * JSON plugin transforms any id ending in `.json` (or `.json?…`), so the id gets a `.js` tail.
 * Only imports from other modules are redirected: when the bundler resolves the prompt file that the
 * virtual module watches (with no importer, or with the virtual module as importer), it must get
 * the file itself, or edits to it would never invalidate the virtual module.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export const PROMPT_SUFFIX = '.imageprompt.json';
export const IMPORT_QUERY = 'imageprompt';
const PREFIX = '\0imageprompt:';
const TAIL = '.js';

/** Ids worth a resolveId call: a prompt file, with or without the query. */
export const RESOLVE_FILTER = /\.imageprompt\.json(?:\?imageprompt)?$/;
/** A prompt file's path. */
export const PROMPT_FILE_PATTERN = /\.imageprompt\.json$/;
/** Ids worth a load call: our virtual modules. */
export const LOAD_FILTER = /^\0imageprompt:.*\.js$/;

export function isPromptImport(id: string): boolean {
  const [path, query] = splitQuery(id);
  return path.endsWith(PROMPT_SUFFIX) && (query === undefined || query === IMPORT_QUERY);
}

export function toVirtualId(id: string, importer: string, root: string): string {
  const [path] = splitQuery(id);
  let file: string;
  if (isAbsolute(path) && existsSync(path)) file = path;
  else if (path.startsWith('/')) file = resolve(root, `.${path}`);
  else file = resolve(dirname(splitQuery(importer)[0]), path);
  return `${PREFIX}${file}${TAIL}`;
}

export function isVirtualId(id: string): boolean {
  return id.startsWith(PREFIX) && id.endsWith(TAIL);
}

export function promptFileOf(virtualId: string): string {
  return virtualId.slice(PREFIX.length, -TAIL.length);
}

function splitQuery(id: string): [string, string | undefined] {
  const index = id.indexOf('?');
  return index === -1 ? [id, undefined] : [id.slice(0, index), id.slice(index + 1)];
}
