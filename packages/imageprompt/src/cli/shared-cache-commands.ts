/** `imageprompt pull` and `imageprompt push`: moving entries between the local and the shared cache. */
import { relative } from 'node:path';
import { ImagePromptError } from '../errors/errors.js';
import { EXIT, oneBlock, type CommandContext } from './commands.js';
import { Progress, type ProgressCounts } from './progress.js';
import type { PreparedPromptFile } from '../engine/engine.js';

function noRemote(ctx: CommandContext): number {
  ctx.out('imageprompt: no shared cache is configured\n  → set IMAGEPROMPT_REMOTE (or "remote" in imageprompt.config.json, or --remote) to s3://<bucket>/<prefix> or an http(s):// URL');
  return EXIT.usage;
}

/** Fills the local cache from the shared one for every prompt file whose entry is only there. */
export async function pull(ctx: CommandContext): Promise<number> {
  const layer = ctx.engine.remote;
  if (!layer) return noRemote(ctx);
  // one pass per prompt file: checked, looked for here, then fetched, so that downloads start while
  // other files are still being looked at
  const progress = new Progress();
  const counts: ProgressCounts = { total: ctx.files.length, done: 0, inFlight: 0, failed: 0, bytes: 0 };
  const outcome = { pulled: 0, local: 0, absent: 0, invalid: 0 };
  await Promise.all(
    ctx.files.map(async (path) => {
      const file = relative(ctx.engine.options.root, path);
      let line: string | undefined;
      counts.inFlight += 1;
      try {
        const prepared = await ctx.engine.prepare(path);
        const result = prepared.chain ? await pullChain(ctx, prepared, file) : await layer.pull(prepared.key);
        if (result === 'failed') counts.failed += 1;
        else outcome[result] += 1;
        if (result === 'pulled' || result === 'failed') line = `${result}  ${file}`;
      } catch (error) {
        if (!(error instanceof ImagePromptError)) throw error;
        outcome.invalid += 1;
        line = `invalid  ${oneBlock(error)}`;
      }
      counts.inFlight -= 1;
      counts.done += 1;
      counts.bytes = layer.bytesIn;
      progress.update(counts, line);
    }),
  );
  progress.finish();
  ctx.out(
    `${outcome.pulled} pulled from ${layer.label}, ${outcome.local} already local, ${outcome.absent} in no cache, ${counts.failed} failed, ${outcome.invalid} invalid; ${((counts.bytes ?? 0) / 1_000_000).toFixed(1)} MB in ${progress.elapsed()}`,
  );
  return counts.failed > 0 || outcome.invalid > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * A chain's every step: the walk through the cache keys each step from the manifest of the one
 * before (see engine/chain-runner.ts), then each entry only in the shared cache is fetched.
 */
async function pullChain(ctx: CommandContext, prepared: PreparedPromptFile, file: string): Promise<'pulled' | 'local' | 'absent' | 'failed'> {
  const layer = ctx.engine.remote!;
  const links = await ctx.engine.walk(prepared, file);
  if (!links.every((link) => link.place)) return 'absent';
  const remote = links.filter((link) => link.place === 'remote');
  const results = await Promise.all(remote.map((link) => layer.pull(link.key!)));
  if (results.some((result) => result !== 'pulled' && result !== 'local')) return 'failed';
  return remote.length > 0 ? 'pulled' : 'local';
}

/** Uploads every whole local entry the shared cache lacks (after a failed upload, or from a laptop). */
export async function push(ctx: CommandContext): Promise<number> {
  const layer = ctx.engine.remote;
  if (!layer) return noRemote(ctx);
  if (layer.mode !== 'write') {
    // credentials that may write were given: then it is the mode that says read
    ctx.out(
      layer.canWrite
        ? `imageprompt: the shared cache at ${layer.label} is read-only here because IMAGEPROMPT_REMOTE_MODE=read\n  → unset IMAGEPROMPT_REMOTE_MODE (or set it to write) to upload with the credentials given`
        : `imageprompt: the shared cache at ${layer.label} is read-only here: no credentials that may write were given\n  → set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (S3) or IMAGEPROMPT_REMOTE_TOKEN (HTTP)`,
    );
    return EXIT.usage;
  }
  const inventory = await ctx.engine.store.inventory();
  const progress = new Progress();
  const counts: ProgressCounts = { total: inventory.entries.length, done: 0, inFlight: 0, failed: 0, bytes: 0 };
  const outcome = { uploaded: 0, present: 0 };
  await Promise.all(
    inventory.entries.map(async ({ key, file }) => {
      counts.inFlight += 1;
      const entry = await ctx.engine.store.read(key);
      const result = entry ? await layer.push(entry) : 'failed';
      counts.inFlight -= 1;
      counts.done += 1;
      if (result === 'uploaded' || result === 'present') outcome[result] += 1;
      else counts.failed += 1;
      counts.bytes = layer.bytesOut;
      progress.update(counts, `${result === 'present' ? 'present' : result === 'uploaded' ? 'pushed' : 'failed'}  ${file}`);
    }),
  );
  progress.finish();
  ctx.out(
    `${outcome.uploaded} pushed to ${layer.label}, ${outcome.present} already there, ${counts.failed} failed; ${((counts.bytes ?? 0) / 1_000_000).toFixed(1)} MB in ${progress.elapsed()}`,
  );
  return counts.failed > 0 ? EXIT.failed : EXIT.ok;
}
