/** What `plan`, `check`, `prune` and `generate` all start from: each prompt file checked and looked up. */
import { relative } from 'node:path';
import type { ImagePromptEngine } from '../engine/engine.js';
import { ImagePromptError } from '../errors/errors.js';
import type { EntryPlace } from '../cache/cache-port.js';
import type { PreparedPromptFile } from '../engine/engine.js';

export interface SurveyItem {
  /** Path relative to the root, for output. */
  file: string;
  path: string;
  prepared?: PreparedPromptFile;
  error?: ImagePromptError;
  cached: boolean;
  /** Where the entry is: here, or only in the shared cache. */
  place?: EntryPlace;
}

export async function survey(engine: ImagePromptEngine, files: string[]): Promise<SurveyItem[]> {
  return Promise.all(
    files.map(async (path): Promise<SurveyItem> => {
      const file = relative(engine.options.root, path);
      try {
        const prepared = await engine.prepare(path);
        const place = await engine.placeOf(prepared.key, file);
        return { file, path, prepared, cached: place !== undefined, place };
      } catch (error) {
        if (!(error instanceof ImagePromptError)) throw error;
        return { file, path, error, cached: false };
      }
    }),
  );
}
