/**
 * Which request key each prompt file was last built under, recorded by builds in
 * `<cacheDir>/refs/`, one small file per prompt file:
 *
 *   refs/<sha256 of the file's path>.json   { file, content, key }
 *
 * `content` is the sha256 of the prompt file's canonical JSON. A build computes keys with options
 * the command cannot see (defaults given only to the plugin), so `prune` keeps the entry a build
 * recorded for a prompt file whose content is unchanged, whatever key the command would compute.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { makeDirectory, writeFileAtomic } from './atomic-file.js';
import { canonicalJson, sha256Hex } from '../prompt/request-key.js';
import type { AnyPromptFile } from '../prompt/prompt-file.js';

export interface KeyRef {
  /** The prompt file's path relative to the project root, with forward slashes. */
  file: string;
  content: string;
  key: string;
  /** A chain's every key, the head's first: each step's entry is kept while the file is unchanged. */
  steps?: string[];
}

export const REFS_FOLDER = 'refs';

export function contentDigest(prompt: AnyPromptFile): string {
  return sha256Hex(canonicalJson(prompt));
}

export class KeyRefs {
  readonly dir: string;

  constructor(
    cacheDir: string,
    private readonly root: string,
  ) {
    this.dir = join(cacheDir, REFS_FOLDER);
  }

  private name(file: string): string {
    return relative(this.root, file).split('\\').join('/');
  }

  private pathOf(name: string): string {
    return join(this.dir, `${sha256Hex(name).slice(0, 32)}.json`);
  }

  /** The ref recorded for a prompt file (absolute path), if any. */
  lookup(file: string): KeyRef | undefined {
    try {
      const ref = JSON.parse(readFileSync(this.pathOf(this.name(file)), 'utf8')) as KeyRef;
      return typeof ref.key === 'string' && typeof ref.content === 'string' ? ref : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records the key (and a chain's step keys) a build used for a prompt file; writes only when something changed. */
  async record(file: string, content: string, key: string, steps?: string[]): Promise<void> {
    const name = this.name(file);
    const known = this.lookup(file);
    if (known?.key === key && known.content === content && known.file === name && String(known.steps) === String(steps)) return;
    await makeDirectory(this.dir);
    await writeFileAtomic(this.pathOf(name), `${JSON.stringify({ file: name, content, key, ...(steps?.length ? { steps } : {}) } satisfies KeyRef)}\n`);
  }

  /** Every key a ref keeps: its own and its chain's. */
  static keysOf(ref: KeyRef): string[] {
    return [ref.key, ...(Array.isArray(ref.steps) ? ref.steps.filter((k): k is string => typeof k === 'string') : [])];
  }

  /** Every ref, with the cache-relative path of its file. */
  list(): (KeyRef & { path: string })[] {
    const refs: (KeyRef & { path: string })[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return refs;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      try {
        const ref = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as KeyRef;
        if (typeof ref.file === 'string' && typeof ref.key === 'string' && typeof ref.content === 'string') refs.push({ ...ref, path: `${REFS_FOLDER}/${name}` });
      } catch {
        // unreadable: keeps nothing, and prune removes it
      }
    }
    return refs;
  }
}
