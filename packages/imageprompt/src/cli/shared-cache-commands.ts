/** `imageprompt pull` and `imageprompt push`: moving entries between the local and the shared cache. */
import { EXIT, type CommandContext } from './commands.js';
import { Progress, type ProgressCounts } from './progress.js';
import { survey } from './survey.js';

function noRemote(ctx: CommandContext): number {
  ctx.out('imageprompt: no shared cache is configured\n  → set IMAGEPROMPT_REMOTE (or "remote" in imageprompt.config.json, or --remote) to s3://<bucket>/<prefix> or an http(s):// URL');
  return EXIT.usage;
}

/** Fills the local cache from the shared one for every prompt file whose entry is only there. */
export async function pull(ctx: CommandContext): Promise<number> {
  const layer = ctx.engine.remote;
  if (!layer) return noRemote(ctx);
  const items = await survey(ctx.engine, ctx.files);
  const todo = items.filter((i) => i.place === 'remote');
  const absent = items.filter((i) => i.prepared && !i.cached).length;
  const invalid = items.filter((i) => i.error).length;
  const progress = new Progress();
  const counts: ProgressCounts = { total: todo.length, done: 0, inFlight: 0, failed: 0, bytes: 0 };
  let restored = 0;
  await Promise.all(
    todo.map(async (item) => {
      counts.inFlight += 1;
      const entry = await layer.read(item.prepared!.key).catch(() => undefined);
      counts.inFlight -= 1;
      counts.done += 1;
      if (entry) restored += 1;
      else counts.failed += 1;
      counts.bytes = layer.bytesIn;
      progress.update(counts, `${entry ? 'pulled' : 'failed'}  ${item.file}`);
    }),
  );
  progress.finish();
  ctx.out(
    `${restored} pulled from ${layer.label}, ${items.length - todo.length - absent - invalid} already local, ${absent} in no cache, ${counts.failed} failed, ${invalid} invalid; ${((counts.bytes ?? 0) / 1_000_000).toFixed(1)} MB in ${progress.elapsed()}`,
  );
  return counts.failed > 0 || invalid > 0 ? EXIT.failed : EXIT.ok;
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
