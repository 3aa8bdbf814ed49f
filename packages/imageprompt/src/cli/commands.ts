/** The `imageprompt` commands. Each returns its exit code (see `main.ts`). */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImagePromptEngine } from '../engine.js';
import { ImagePromptError } from '../errors.js';
import { expectedSize } from '../expected-size.js';
import { CATALOG_DATE, type ImageModel } from '../model-catalog.js';
import { fetchLiveCatalog } from '../live-catalog.js';
import { round } from '../pricing.js';
import { TEMP_PREFIX } from '../atomic-file.js';
import type { Manifest } from '../cache-store.js';
import { Progress } from './progress.js';
import { survey, type SurveyItem } from './survey.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, spendCap: 3 } as const;

export interface CommandContext {
  engine: ImagePromptEngine;
  files: string[];
  json: boolean;
  dryRun: boolean;
  priceSource: string;
  out: (line: string) => void;
}

function describeError(item: SurveyItem): string {
  return item.error!.message.replace(/\n\s*→ /, ' → ');
}

export async function plan(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  const misses = items.filter((i) => i.prepared && !i.cached).map((i) => {
    const { request, key } = i.prepared!;
    const { width, height } = expectedSize(request);
    return { file: i.file, key, model: request.model, width, height, format: request.format, variants: request.variants, priceUsd: ctx.engine.priceOf(i.prepared!) ?? null };
  });
  const invalid = items.filter((i) => i.error).map((i) => ({ file: i.file, message: describeError(i) }));
  const totalUsd = round(misses.reduce((sum, m) => sum + (m.priceUsd ?? 0), 0));
  const unpriced = misses.filter((m) => m.priceUsd === null).length;
  if (ctx.json) {
    ctx.out(JSON.stringify({ misses, cached: items.filter((i) => i.cached).length, invalid, totalUsd, unpriced, priceSource: ctx.priceSource }, null, 2));
  } else {
    for (const m of misses) {
      const price = m.priceUsd === null ? 'price unknown' : `$${Number(m.priceUsd.toFixed(6))}`;
      ctx.out(`miss  ${m.file}  ${m.model}  ${m.width}×${m.height} ${m.format}${m.variants > 1 ? ` ×${m.variants}` : ''}  ${price}`);
    }
    for (const i of invalid) ctx.out(`invalid  ${i.message}`);
    ctx.out(`${misses.length} of ${items.length} prompt files to generate, estimated $${totalUsd}${unpriced ? ` (+${unpriced} without a price)` : ''}; prices from ${ctx.priceSource}; nothing was spent`);
  }
  return invalid.length > 0 ? EXIT.failed : EXIT.ok;
}

export async function check(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  const invalid = items.filter((i) => i.error).map((i) => ({ file: i.file, message: describeError(i) }));
  const missing = items.filter((i) => i.prepared && !i.cached).map((i) => ({ file: i.file, key: i.prepared!.key }));
  const ok = invalid.length === 0 && missing.length === 0;
  if (ctx.json) {
    ctx.out(JSON.stringify({ ok, files: items.length, cached: items.filter((i) => i.cached).length, invalid, missing }, null, 2));
  } else {
    for (const i of invalid) ctx.out(`invalid  ${i.message}`);
    for (const m of missing) ctx.out(`missing  ${m.file}  (key ${m.key})`);
    ctx.out(
      ok
        ? `all ${items.length} prompt files are valid and cached`
        : `${invalid.length} invalid, ${missing.length} missing from the cache, of ${items.length} prompt files; run \`imageprompt generate\` with VENICE_API_KEY set to fill the cache`,
    );
  }
  return ok ? EXIT.ok : EXIT.failed;
}

export async function generate(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  const invalid = items.filter((i) => i.error);
  const todo = items.filter((i) => i.prepared && !i.cached);
  const progress = new Progress();
  const counts = { total: todo.length, done: 0, inFlight: 0, failed: 0 };
  for (const i of invalid) ctx.out(`invalid  ${describeError(i)}`);
  const capped: string[] = [];
  await Promise.all(
    todo.map(async (item) => {
      counts.inFlight += 1;
      let line: string;
      try {
        const result = await ctx.engine.load(item.path);
        line = result.status === 'generated' ? `generated  ${item.file}` : `cached  ${item.file}`;
      } catch (error) {
        const failure = error as ImagePromptError;
        if (failure.code === 'SPEND_CAP') capped.push(item.file);
        else counts.failed += 1;
        line = `${failure.code === 'SPEND_CAP' ? 'skipped' : 'failed'}  ${failure.message.split('\n')[0]}`;
      }
      counts.inFlight -= 1;
      counts.done += 1;
      progress.update(counts, line);
    }),
  );
  progress.finish();
  ctx.out(
    `${todo.length - counts.failed - capped.length} generated, ${items.length - todo.length - invalid.length} already cached, ${counts.failed} failed, ${invalid.length} invalid; spent about $${ctx.engine.spentUsd} in ${progress.elapsed()}`,
  );
  if (capped.length > 0) {
    ctx.out(`stopped at the spend cap of $${ctx.engine.options.maxSpendUsd}; left ungenerated:\n${capped.map((f) => `  ${f}`).join('\n')}`);
    return EXIT.spendCap;
  }
  return counts.failed > 0 || invalid.length > 0 ? EXIT.failed : EXIT.ok;
}

/** Blobs younger than this may belong to an entry another build is writing right now. */
const PRUNE_GRACE_MS = 10 * 60_000;

export async function prune(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  const invalid = items.filter((i) => i.error);
  if (invalid.length > 0) {
    for (const i of invalid) ctx.out(`invalid  ${describeError(i)}`);
    ctx.out(`refusing to prune while ${invalid.length} prompt files are invalid: their images could still be wanted; fix them first`);
    return EXIT.failed;
  }
  const store = ctx.engine.store;
  const referenced = new Set(items.map((i) => i.prepared!.key));
  const removed: string[] = [];
  const keptDigests = new Set<string>();
  const remove = async (path: string, label: string) => {
    removed.push(label);
    if (!ctx.dryRun) await rm(path, { force: true });
  };
  for (const name of await readdir(store.entriesDir).catch(() => [] as string[])) {
    const path = join(store.entriesDir, name);
    if (name.startsWith(TEMP_PREFIX)) {
      if (Date.now() - (await stat(path)).mtimeMs > PRUNE_GRACE_MS) await remove(path, `entries/${name}`);
      continue;
    }
    const key = name.replace(/\.json$/, '');
    if (!referenced.has(key)) {
      await remove(path, `entries/${name}`);
      continue;
    }
    try {
      const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
      for (const output of manifest.outputs) keptDigests.add(output.digest);
    } catch {
      // an unreadable entry keeps nothing; the build will regenerate it
    }
  }
  for (const name of await readdir(store.blobsDir).catch(() => [] as string[])) {
    const path = join(store.blobsDir, name);
    const digest = name.replace(/\..*$/, '');
    if (keptDigests.has(digest)) continue;
    if (Date.now() - (await stat(path)).mtimeMs < PRUNE_GRACE_MS) continue;
    await remove(path, `blobs/${name}`);
  }
  if (ctx.json) ctx.out(JSON.stringify({ dryRun: ctx.dryRun, removed }, null, 2));
  else {
    for (const label of removed) ctx.out(`${ctx.dryRun ? 'would remove' : 'removed'}  ${label}`);
    ctx.out(`${removed.length} files ${ctx.dryRun ? 'would be removed' : 'removed'}; ${referenced.size} entries are referenced by ${items.length} prompt files`);
  }
  return EXIT.ok;
}

export async function styles(ctx: CommandContext): Promise<number> {
  const url = `${ctx.engine.options.baseURL}/image/styles`;
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) }).catch((error: Error) => error);
  if (response instanceof Error || !response.ok) {
    ctx.out(`could not read ${url}: ${response instanceof Error ? response.message : `HTTP ${response.status}`}`);
    return EXIT.failed;
  }
  const body = (await response.json()) as { data?: string[] } | string[];
  const names = Array.isArray(body) ? body : (body.data ?? []);
  ctx.out(ctx.json ? JSON.stringify(names, null, 2) : names.join('\n'));
  return EXIT.ok;
}

function sizing(model: ImageModel): string {
  const c = model.constraints;
  if (!c.aspectRatios) return `width/height (multiple of ${c.widthHeightDivisor})`;
  const parts = [`aspect_ratio ${c.aspectRatios.join(' ')}`];
  if (c.resolutions) parts.push(`resolution ${c.resolutions.join(' ')}`);
  if (c.qualities) parts.push(`quality ${c.qualities.join(' ')}`);
  return parts.join('; ');
}

function priceText(model: ImageModel): string {
  const p = model.pricing;
  if (p.quality) return Object.entries(p.quality).map(([tier, q]) => `${tier}: ${Object.entries(q).map(([k, v]) => `${k} $${v.usd}`).join(', ')}`).join('; ');
  if (p.resolutions) return Object.entries(p.resolutions).map(([tier, v]) => `${tier} $${v.usd}`).join(', ');
  return p.generation ? `$${p.generation.usd}` : 'unknown';
}

export async function models(ctx: CommandContext): Promise<number> {
  const live = await fetchLiveCatalog(ctx.engine.options.baseURL);
  const catalog = live ?? ctx.engine.catalog;
  const list = catalog.list();
  if (ctx.json) {
    ctx.out(JSON.stringify(list.map((m) => ({ id: m.id, name: m.name, sizing: sizing(m), constraints: m.constraints, pricing: m.pricing })), null, 2));
  } else {
    for (const m of list) ctx.out(`${m.id}  ${sizing(m)}  ${priceText(m)}`);
    ctx.out(`${list.length} image models, from ${live ? ctx.engine.options.baseURL : `the bundled catalog of ${CATALOG_DATE}`}`);
  }
  return EXIT.ok;
}
