/**
 * Finds prompt files under a root with fast-glob, leaving out node_modules, the cache directory
 * and whatever the root's .gitignore ignores.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import fg from 'fast-glob';

export const DEFAULT_GLOB = '**/*.imageprompt.json';

/** .gitignore lines as fast-glob ignore patterns (negations are not supported and are skipped). */
export function gitignorePatterns(text: string): string[] {
  const patterns: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const anchored = line.startsWith('/') || line.slice(0, -1).includes('/');
    const body = line.replace(/^\//, '').replace(/\/$/, '');
    const base = anchored ? body : `**/${body}`;
    patterns.push(base, `${base}/**`);
  }
  return patterns;
}

export interface FindOptions {
  /**
   * Skip what .gitignore ignores and dot-folders, as a person listing their prompt files expects.
   * `prune` turns this off: a bundler imports an ignored prompt file all the same. @default true
   */
  gitignore?: boolean;
}

export async function findPromptFiles(root: string, globs: string[], cacheDir: string, options: FindOptions = {}): Promise<string[]> {
  const ignore = ['**/node_modules/**', '**/.git/**'];
  const cache = relative(root, cacheDir);
  if (cache && !cache.startsWith('..')) ignore.push(`${cache}/**`);
  const gitignore = `${root}/.gitignore`;
  const asPerson = options.gitignore ?? true;
  if (asPerson && existsSync(gitignore)) ignore.push(...gitignorePatterns(readFileSync(gitignore, 'utf8')));
  const files = await fg(globs.length > 0 ? globs : [DEFAULT_GLOB], { cwd: root, absolute: true, ignore, dot: !asPerson, onlyFiles: true });
  return files.sort();
}
