/**
 * Where `imageprompt review` may write. The site is written whole, so its directory is emptied first,
 * and a directory is emptied only if this command made it: it carries the marker file the command
 * writes. A non-empty directory without the marker, the project root or a folder above it, the cache
 * directory (or one holding it) and any folder holding a prompt file or a `.git` are refused before
 * anything is touched.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ImagePromptError } from '../errors/errors.js';
import { PROMPT_FILE_SUFFIX } from '../prompt/prompt-file.js';

/** The file that says a directory is a review site this command wrote. */
export const REVIEW_MARKER = '.imageprompt-review';
export const MARKER_TEXT = 'This directory is written by `imageprompt review`, which empties it each time it runs.\n';

/** How many entries of a candidate directory are looked at for prompt files before giving up (and refusing). */
const MAX_LOOKED_AT = 20_000;

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

function refuse(outDir: string, why: string, hint: string): never {
  throw new ImagePromptError({ code: 'INVALID_CONFIG', message: `--out ${outDir} ${why}, so the review is not written there`, hint });
}

/** Throws unless `outDir` is a directory the review may empty and fill. */
export function checkReviewOutput(outDir: string, places: { root: string; cacheDir: string }): void {
  const out = resolve(outDir);
  const shown = relative(process.cwd(), out) || '.';
  const elsewhere = 'choose a directory of its own, e.g. --out imageprompt-review (or leave --out out)';
  if (inside(places.root, out)) refuse(shown, out === places.root ? 'is the project root' : 'holds the project root', elsewhere);
  if (inside(out, places.cacheDir) || inside(places.cacheDir, out)) refuse(shown, 'is or holds the image cache', elsewhere);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) refuse(shown, 'is a file', elsewhere);
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(REVIEW_MARKER) && !isEarlierReview(out, entries)) {
    refuse(shown, `is a directory that imageprompt did not write (it has files and no ${REVIEW_MARKER} marker)`, `${elsewhere}; the review empties its directory each time`);
  }
  const found = sourceInside(out);
  if (found) refuse(shown, `holds ${relative(process.cwd(), found)}`, elsewhere);
}

/** A review written before the marker existed: its three names and nothing else. */
function isEarlierReview(dir: string, entries: string[]): boolean {
  const names = new Set(['index.html', 'summary.md', 'images']);
  return entries.every((e) => names.has(e)) && entries.includes('index.html') && readdirSync(join(dir, 'images'), { withFileTypes: true }).every((i) => i.isFile() && /^[0-9a-f]{64}(-thumb)?\.(webp|png|jpg)$/.test(i.name));
}

/** A prompt file or `.git` inside the directory, or undefined; past the bound, the directory itself (refused as unknown). */
function sourceInside(dir: string): string | undefined {
  const queue = [dir];
  let looked = 0;
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const item of readdirSync(next, { withFileTypes: true })) {
      if (++looked > MAX_LOOKED_AT) return dir;
      const path = join(next, item.name);
      if (item.name === '.git' || item.name.endsWith(PROMPT_FILE_SUFFIX)) return path;
      if (item.isDirectory()) queue.push(path);
    }
  }
  return undefined;
}

/** Empties a directory that carries the marker (checked by {@link checkReviewOutput}); creates none. */
export async function clearOutput(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => [] as string[]);
  if (entries.length === 0) return;
  if (!entries.includes(REVIEW_MARKER) && !isEarlierReview(outDir, entries)) throw new Error(`${outDir} has no ${REVIEW_MARKER} marker; not emptied`);
  for (const entry of entries) await rm(join(outDir, entry), { recursive: true, force: true });
}
