/** What `plan`, `check`, `prune` and `generate` all start from: each prompt file checked and looked up. */
import { relative } from 'node:path';
import type { ImagePromptEngine } from '../engine/engine.js';
import { ImagePromptError } from '../errors/errors.js';
import type { EntryPlace } from '../cache/cache-port.js';
import type { PreparedPromptFile, WalkedLink } from '../engine/engine.js';

export interface SurveyItem {
  /** Path relative to the root, for output. */
  file: string;
  path: string;
  prepared?: PreparedPromptFile;
  /** The request key (absent for an invalid file); from the hit index, `prepared` is absent too. */
  key?: string;
  error?: ImagePromptError;
  cached: boolean;
  /** Where the entry is: here, or only in the shared cache (a chain: only there if any step is). */
  place?: EntryPlace;
  /** A chain's links through the cache: which are there, which would be paid (see engine/chain-runner.ts). */
  links?: WalkedLink[];
}

/**
 * Every prompt file checked and looked up. With `useIndex` (`check` without `--verify`), a prompt
 * file this machine verified whole before under the same settings is answered by the hit index (its
 * key, cached here: a few stats, as a build's hit), and one found whole in full is remembered there.
 */
export async function survey(engine: ImagePromptEngine, files: string[], { useIndex = false } = {}): Promise<SurveyItem[]> {
  return Promise.all(
    files.map(async (path): Promise<SurveyItem> => {
      const file = relative(engine.options.root, path);
      const key = useIndex ? engine.indexedKey(path) : undefined;
      if (key) return { file, path, key, cached: true, place: 'local' };
      try {
        const prepared = await engine.prepare(path);
        if (prepared.chain) {
          const links = await engine.walk(prepared, file);
          const cached = links.every((link) => link.place);
          return { file, path, prepared, key: links.at(-1)!.key ?? prepared.key, cached, place: cached ? (links.some((link) => link.place === 'remote') ? 'remote' : 'local') : undefined, links };
        }
        const place = await engine.placeOf(prepared.key, file, useIndex ? { file: path, prepared } : undefined);
        return { file, path, prepared, key: prepared.key, cached: place !== undefined, place };
      } catch (error) {
        if (!(error instanceof ImagePromptError)) throw error;
        return { file, path, error, cached: false };
      }
    }),
  );
}
