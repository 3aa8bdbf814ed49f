/**
 * `imageprompt review [globs] [--since <ref>] [--out <dir>] [--markdown] [--site-url <url>]`: the static review site
 * (see ../review/). Reads the caches, spends nothing; invalid prompt files are shown, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { reviewModel } from '../review/review-model.js';
import { checkReviewOutput } from '../review/review-output.js';
import { writeReviewSite } from '../review/review-site.js';
import { EXIT, type CommandContext } from './commands.js';

export const DEFAULT_REVIEW_DIR = 'imageprompt-review';

export async function review(ctx: CommandContext): Promise<number> {
  const { engine } = ctx;
  const outDir = ctx.outDir ? resolve(ctx.outDir) : join(engine.options.root, DEFAULT_REVIEW_DIR);
  // before anything is read or written: the review empties its directory, so it must be its own
  checkReviewOutput(outDir, { root: engine.options.root, cacheDir: engine.options.cacheDir });
  const model = await reviewModel(engine, ctx.files, ctx.since);
  const thumbnailDir = join(dirname(engine.options.placeholderDir), 'thumbnails');
  const shown = relative(process.cwd(), outDir) || '.';
  const location = ctx.siteUrl ? { url: ctx.siteUrl } : { folder: relative(engine.options.root, outDir) || '.' };
  const site = await writeReviewSite(model, { outDir, thumbnailDir, markdown: ctx.markdown, site: location });
  const { counts, changes, since } = model.summary;
  if (ctx.json) {
    ctx.out(JSON.stringify({ outDir, ...model.summary, images: site.images, pageBytes: site.pageBytes, fullBytes: site.fullBytes }, null, 2));
    return EXIT.ok;
  }
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;
  ctx.out(`${counts.cached} cached, ${counts.missing} missing, ${counts.invalid} invalid${changes ? `; since ${since}: ${changes.modified} modified, ${changes.added} added, ${changes.removed} removed` : ''}`);
  ctx.out(`wrote ${shown}/index.html${ctx.markdown ? ` and ${shown}/summary.md` : ''}: ${site.images} images, the page loads ${kb(site.pageBytes)} (full-size images: ${kb(site.fullBytes)}, loaded when opened)`);
  // the site is output, not source: say so once where git would list it as new files
  if (shownByGit(engine.options.root, outDir)) ctx.out(`note: git would list ${shown}/ as new files; add "${relative(engine.options.root, outDir) || shown}/" to .gitignore`);
  return EXIT.ok;
}

/** Whether `dir` lies inside the git work tree at `root` and git does not ignore it. */
function shownByGit(root: string, dir: string): boolean {
  const inside = relative(root, dir);
  if (!inside || inside.startsWith('..')) return false;
  // exit 0: ignored, 1: not ignored, 128: not a repository (or no git)
  const answer = spawnSync('git', ['check-ignore', '-q', inside], { cwd: root, timeout: 5000, stdio: 'ignore' });
  return answer.status === 1;
}
