/**
 * Prompt-file imports resolve to a virtual id so that no other plugin treats them as JSON: Vite's
 * JSON plugin transforms any id ending in `.json` (or `.json?…`), so the id gets a `.js` tail.
 * Only imports from other modules are redirected: when the bundler resolves the prompt file that the
 * virtual module watches (with no importer, or with the virtual module as importer), it must get
 * the file itself, or edits to it would never invalidate the virtual module.
 *
 * A virtual id names the prompt file relative to the project root, with `/` as separator: bundlers
 * print ids into output (region comments, source maps, error messages), and no emitted file may
 * carry a path of the build machine. Virtual ids start with a NUL byte, which tells other plugins to
 * leave them alone. (webpack, Rspack, esbuild, Farm and Rolldown need none: they resolve the import
 * to the prompt file itself, query and all, which the plugin loads as JavaScript.)
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { directivesOf } from './import-directives.js';

export const PROMPT_SUFFIX = '.imageprompt.json';
const PREFIX = '\0imageprompt:';
const TAIL = '.js';

/** Ids worth a resolveId call: a prompt file, with no query or one holding the `imageprompt` flag. */
export const RESOLVE_FILTER = /\.imageprompt\.json(?:\?(?:[^?]*&)?imageprompt(?:&[^?]*)?)?$/;
/** A prompt file's path. */
export const PROMPT_FILE_PATTERN = /\.imageprompt\.json$/;
/** Ids worth a load call: our virtual modules (Vite, Rollup, Astro). */
export const LOAD_FILTER = /^\0imageprompt:.*\.js$/;

/** Whether an import is ours: a prompt file with no query, or a query holding the `imageprompt` flag. */
export function isPromptImport(id: string): boolean {
  return importDirectives(id) !== undefined;
}

/**
 * The canonical directives of an import (`w=480;960&format=avif` sorted), '' for none; undefined
 * when the import is not ours (another file, or a query without the flag).
 */
export function importDirectives(id: string): string | undefined {
  const [path, query] = splitQuery(id);
  return path.endsWith(PROMPT_SUFFIX) ? directivesOf(query) : undefined;
}

/** The virtual ids of one plugin instance: relative to its project root, marked as its bundler expects. */
export class ModuleIds {
  constructor(private readonly root: () => string) {}

  /** Every virtual id handed out for a prompt file (one per set of import directives). */
  private handedOut = new Map<string, Set<string>>();

  /**
   * The virtual id of a prompt file imported as `id` from `importer` (a file of its own is its own
   * importer); the import's directives, if any, follow the file: `…/hero.imageprompt.json&w=480.js`.
   */
  toVirtual(id: string, importer: string): string {
    const [path] = splitQuery(id);
    const root = this.root();
    let file: string;
    if (isAbsolute(path) && existsSync(path)) file = path;
    else if (path.startsWith('/')) file = resolve(root, `.${path}`);
    else file = resolve(dirname(splitQuery(importer)[0]), path);
    const directives = importDirectives(id) ?? '';
    const virtual = `${PREFIX}${relative(root, file).split(sep).join('/')}${directives ? `&${directives}` : ''}${TAIL}`;
    this.handedOut.set(file, (this.handedOut.get(file) ?? new Set()).add(virtual));
    return virtual;
  }

  /** The virtual ids of a prompt file: the plain one, and one per set of directives it was imported with. */
  idsOf(file: string): string[] {
    return [...(this.handedOut.get(file) ?? [this.toVirtual(file, file)])];
  }

  isVirtual(id: string): boolean {
    return id.startsWith(PREFIX) && id.endsWith(TAIL);
  }

  /**
   * A message with our virtual ids replaced by the prompt files they stand for. Rollup puts the id of
   * a module whose load failed in front of the error ("Could not load <id>"), NUL byte and all.
   */
  readable(message: string): string {
    return message.replaceAll(this.idPattern, (_, file: string) => file);
  }

  private get idPattern(): RegExp {
    return new RegExp(`\\0${PREFIX.slice(1)}(\\S*?\\.imageprompt\\.json)(?:&\\S*?)?\\${TAIL}`, 'g');
  }

  /** The prompt file's absolute path. */
  promptFile(virtualId: string): string {
    const inner = virtualId.slice(PREFIX.length, -TAIL.length);
    return resolve(this.root(), inner.slice(0, inner.lastIndexOf(PROMPT_SUFFIX) + PROMPT_SUFFIX.length));
  }

  /** The import directives a virtual id carries, '' for none. */
  directives(virtualId: string): string {
    const inner = virtualId.slice(PREFIX.length, -TAIL.length);
    return inner.slice(inner.lastIndexOf(PROMPT_SUFFIX) + PROMPT_SUFFIX.length + 1);
  }
}

function splitQuery(id: string): [string, string | undefined] {
  const index = id.indexOf('?');
  return index === -1 ? [id, undefined] : [id.slice(0, index), id.slice(index + 1)];
}
