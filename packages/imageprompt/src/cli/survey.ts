/** What `plan`, `check`, `prune` and `generate` all start from: each prompt file checked and looked up. */
import { relative } from 'node:path';
import type { ImagePromptEngine } from '../engine.js';
import { ImagePromptError } from '../errors.js';
import type { PreparedPromptFile } from '../engine.js';

export interface SurveyItem {
  /** Path relative to the root, for output. */
  file: string;
  path: string;
  prepared?: PreparedPromptFile;
  error?: ImagePromptError;
  cached: boolean;
}

export async function survey(engine: ImagePromptEngine, files: string[]): Promise<SurveyItem[]> {
  return Promise.all(
    files.map(async (path): Promise<SurveyItem> => {
      const file = relative(engine.options.root, path);
      try {
        const prepared = await engine.prepare(path);
        return { file, path, prepared, cached: (await engine.store.read(prepared.key)) !== undefined };
      } catch (error) {
        if (!(error instanceof ImagePromptError)) throw error;
        return { file, path, error, cached: false };
      }
    }),
  );
}
