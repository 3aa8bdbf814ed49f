/** The `imageprompt` commands. Each returns its exit code (see `main.ts`). */
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { derivativeDir } from '../images/derivatives.js';
import { sweepDerivatives } from './derivative-sweep.js';
import type { ImagePromptEngine } from '../engine/engine.js';
import { ImagePromptError } from '../errors/errors.js';
import { expectedSize } from '../catalog/expected-size.js';
import { CATALOG_DATE, type EditModel, type EditPricing, type ImageModel, type ModelPricing } from '../catalog/model-catalog.js';
import { safeServerText } from '../http/bounded-body.js';
import { fetchLiveCatalog } from '../catalog/live-catalog.js';
import { round } from '../catalog/pricing.js';
import { Progress } from './progress.js';
import { KeyRefs } from '../cache/key-refs.js';
import { maxEditImages } from '../steps/step-request.js';
import { findPromptFiles } from './find-prompt-files.js';
import { inShard, shardName, shardOfKey, type Shard } from './shard.js';
import { survey, type SurveyItem } from './survey.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, spendCap: 3 } as const;

export interface CommandContext {
  engine: ImagePromptEngine;
  files: string[];
  /** prune: also prune the shared cache (`--remote` was given). */
  pruneRemote: boolean;
  /** The globs the files were found with; empty for the default. */
  globs: string[];
  json: boolean;
  dryRun: boolean;
  priceSource: string;
  /** review: the git ref to compare with (`--since`). */
  since?: string;
  /** review: where the site goes (`--out`). */
  outDir?: string;
  /** review: also write summary.md (`--markdown`). */
  markdown: boolean;
  /** check: hash every byte instead of trusting what this machine verified before (`--verify`). */
  verify: boolean;
  /** review: where the site will be published, for summary.md's links (`--site-url`). */
  siteUrl?: string;
  /** generate, plan: this runner's share of the misses (`--shard`, `IMAGEPROMPT_SHARD`). */
  shard?: Shard;
  out: (line: string) => void;
}

function describeError(item: SurveyItem): string {
  return oneBlock(item.error!);
}

export async function plan(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  // one row per request to pay: a chain's steps not cached each have theirs (keyed where the step before is cached)
  interface Miss {
    file: string;
    key: string | null;
    step?: string;
    model: string;
    width: number;
    height: number;
    format: string;
    variants: number;
    priceUsd: number | null;
    shardKey: string;
  }
  const everyMiss = items.filter((i) => i.prepared && !i.cached).flatMap((i): Miss[] => {
    const { request, key } = i.prepared!;
    if (i.links) {
      return i.links
        .filter((link) => !link.place)
        .map((link) => ({ file: i.file, key: link.key, step: link.label, model: link.label, width: link.width, height: link.height, format: link.format, variants: 1, priceUsd: link.priceUsd ?? null, shardKey: key }));
    }
    const { width, height } = expectedSize(request);
    return [{ file: i.file, key, model: request.model, width, height, format: request.format, variants: request.variants, priceUsd: ctx.engine.priceOf(i.prepared!) ?? null, shardKey: key }];
  });
  // a chain is one shard's whole: its steps follow its head's key
  const misses = everyMiss.filter((m) => inShard(m.shardKey, ctx.shard));
  // every shard's share, so that the number of runners can be chosen
  const shards = ctx.shard
    ? Array.from({ length: ctx.shard.count }, (_, i) => {
        const own = everyMiss.filter((m) => shardOfKey(m.shardKey, ctx.shard!.count) === i + 1);
        return { shard: `${i + 1}/${ctx.shard!.count}`, misses: own.length, totalUsd: round(own.reduce((sum, m) => sum + (m.priceUsd ?? 0), 0)) };
      })
    : undefined;
  const invalid = items.filter((i) => i.error).map((i) => ({ file: i.file, message: describeError(i) }));
  const requests = new Set(misses.map((m) => m.file)).size;
  const totalUsd = round(misses.reduce((sum, m) => sum + (m.priceUsd ?? 0), 0));
  const unpriced = misses.filter((m) => m.priceUsd === null).length;
  const wallet = misses.length > 0 ? await walletCredit(ctx.engine) : undefined;
  if (ctx.json) {
    ctx.out(
      JSON.stringify(
        { misses: misses.map(({ shardKey: _shardKey, ...m }) => m), cached: items.filter((i) => i.cached).length, invalid, totalUsd, unpriced, priceSource: ctx.priceSource, ...(shards ? { shard: shardName(ctx.shard!), shards } : {}), ...(wallet ? { wallet } : {}) },
        null,
        2,
      ),
    );
  } else {
    for (const m of misses) {
      const price = m.priceUsd === null ? 'price unknown' : `$${Number(m.priceUsd.toFixed(6))}`;
      ctx.out(`miss  ${m.file}  ${m.model}  ${m.width}×${m.height} ${m.format}${m.variants > 1 ? ` ×${m.variants}` : ''}  ${price}`);
    }
    for (const i of invalid) ctx.out(`invalid  ${i.message}`);
    for (const share of shards ?? []) ctx.out(`shard ${share.shard}: ${share.misses} to generate, estimated $${share.totalUsd}`);
    const of = ctx.shard ? ` (shard ${shardName(ctx.shard)})` : '';
    const steps = misses.length > requests ? ` (${misses.length} requests)` : '';
    ctx.out(`${requests} of ${items.length} prompt files to generate${steps}${of}, estimated $${totalUsd}${unpriced ? ` (+${unpriced} without a price)` : ''}; prices from ${ctx.priceSource}; nothing was spent`);
    if (wallet?.error) ctx.out(`could not read the wallet's credit on Venice (${wallet.error}); generate will say if it runs short`);
    else if (wallet) {
      const short = wallet.balanceUsd! < totalUsd;
      ctx.out(
        `the wallet ${wallet.address} has $${round(wallet.balanceUsd!)} on Venice${short ? `, less than this plan's estimated $${totalUsd}: top up before \`imageprompt generate\`, which would stop where the credit runs out` : ', enough for this plan'}`,
      );
    }
  }
  return invalid.length > 0 ? EXIT.failed : EXIT.ok;
}

/** When a wallet pays: its address and credit on Venice, or why they could not be read (plan never fails for it). */
async function walletCredit(engine: ImagePromptEngine): Promise<{ address?: string; balanceUsd?: number; error?: string } | undefined> {
  try {
    return await engine.walletBalance();
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  }
}

export async function check(ctx: CommandContext): Promise<number> {
  // `--verify` hashes every byte; without it, what this machine verified before is taken from the hit index
  const items = await survey(ctx.engine, ctx.files, { useIndex: !ctx.verify });
  await ctx.engine.drain();
  const invalid = items.filter((i) => i.error).map((i) => ({ file: i.file, message: describeError(i) }));
  // a chain's first step not cached is what is missing (the ones after it cannot be keyed yet)
  const missing = items
    .filter((i) => i.prepared && !i.cached)
    .map((i) => {
      const link = i.links?.find((l) => !l.place);
      return { file: i.file, key: link ? link.key : i.prepared!.key, ...(link ? { step: link.label } : {}) };
    });
  const ok = invalid.length === 0 && missing.length === 0;
  // where each image is: this machine's cache, or only the shared one (a build restores it from there)
  const onlyShared = items.filter((i) => i.place === 'remote').map((i) => i.file);
  const cached = items.filter((i) => i.cached).length;
  if (ctx.json) {
    ctx.out(JSON.stringify({ ok, files: items.length, cached, local: cached - onlyShared.length, onlyShared, invalid, missing }, null, 2));
  } else {
    for (const i of invalid) ctx.out(`invalid  ${i.message}`);
    for (const m of missing) ctx.out(`missing  ${m.file}  (${'step' in m ? `step ${m.step}, ` : ''}key ${m.key ?? 'not known until the step before is made'})`);
    for (const file of onlyShared) ctx.out(`shared   ${file}  (only in the shared cache)`);
    const where = onlyShared.length > 0 ? ` (${cached - onlyShared.length} here, ${onlyShared.length} only in the shared cache at ${ctx.engine.remote!.label}; \`imageprompt pull\` brings them here)` : '';
    ctx.out(
      ok
        ? `all ${items.length} prompt files are valid and cached${where}`
        : `${invalid.length} invalid, ${missing.length} missing from the cache, of ${items.length} prompt files${where}; run \`imageprompt generate\` with VENICE_API_KEY set to fill the cache`,
    );
  }
  return ok ? EXIT.ok : EXIT.failed;
}

export async function generate(ctx: CommandContext): Promise<number> {
  const items = await survey(ctx.engine, ctx.files);
  const invalid = items.filter((i) => i.error);
  const misses = items.filter((i) => i.prepared && !i.cached);
  // a shard generates its own share; the other runners generate the rest
  const todo = misses.filter((i) => inShard(i.prepared!.key, ctx.shard));
  if (ctx.shard) ctx.out(`shard ${shardName(ctx.shard)}: ${todo.length} of the ${misses.length} misses are this shard's`);
  const progress = new Progress();
  const counts = { total: todo.length, done: 0, inFlight: 0, failed: 0 };
  // what happened to each miss: a miss can turn into a hit when another process generated it first
  const outcome = { generated: 0, cached: 0 };
  for (const i of invalid) ctx.out(`invalid  ${describeError(i)}`);
  const capped: string[] = [];
  await Promise.all(
    todo.map(async (item) => {
      counts.inFlight += 1;
      let line: string;
      try {
        const result = await ctx.engine.load(item.path);
        const status = result.status === 'generated' ? 'generated' : 'cached';
        outcome[status] += 1;
        line = `${status}  ${item.file}`;
      } catch (error) {
        const failure = error as ImagePromptError;
        if (failure.code === 'SPEND_CAP') capped.push(item.file);
        else counts.failed += 1;
        line = `${failure.code === 'SPEND_CAP' ? 'skipped' : 'failed'}  ${oneBlock(failure)}`;
      }
      counts.inFlight -= 1;
      counts.done += 1;
      progress.update(counts, line);
    }),
  );
  progress.finish();
  // uploads to the shared cache run behind generation: wait for them before reporting
  await ctx.engine.drain();
  const cached = items.length - misses.length - invalid.length + outcome.cached;
  ctx.out(
    `${outcome.generated} generated, ${cached} already cached, ${counts.failed} failed, ${invalid.length} invalid${ctx.shard ? `, ${misses.length - todo.length} left to the other shards` : ''}; spent about $${ctx.engine.spentUsd}${
      ctx.engine.answeredBySimulator ? ` at Venice's prices, but a simulator at ${new URL(ctx.engine.options.baseURL).host} answered, so nothing was paid` : ''
    } in ${progress.elapsed()}${ctx.engine.walletSummary ? `; ${ctx.engine.walletSummary}` : ''}`,
  );
  // a fill (a CI shard above all) is for the machines that read the shared cache: images that did
  // not reach it are said, and the run fails, though they are safe here
  const notUploaded = ctx.engine.remote?.notUploaded.size ?? 0;
  if (notUploaded > 0) {
    ctx.out(`imageprompt: ${notUploaded} image${notUploaded === 1 ? '' : 's'} generated here did not reach the shared cache at ${ctx.engine.remote!.label} (see the warning above); they are safe in the local cache\n  → run \`imageprompt push\` once the shared cache answers, before a build elsewhere needs them`);
  }
  if (capped.length > 0) {
    ctx.out(`stopped at the spend cap of $${ctx.engine.options.maxSpendUsd}; left ungenerated:\n${capped.map((f) => `  ${f}`).join('\n')}`);
    return EXIT.spendCap;
  }
  if (notUploaded > 0) return EXIT.failed;
  return counts.failed > 0 || invalid.length > 0 ? EXIT.failed : EXIT.ok;
}

/** An error's message with its "→ what to do" line kept, on one line for lists. */
export function oneBlock(error: Error): string {
  return error.message.replace(/\n\s*→ /, ' → ');
}

/** Blobs younger than this may belong to an entry another build is writing right now. */
/** What the shared cache keeps whatever references it: a day, for other branches' builds and uploads on their way. */
const REMOTE_PRUNE_GRACE_MS = 24 * 3600_000;
const PRUNE_GRACE_MS = 10 * 60_000;

/**
 * Removes what no prompt file in the project references. Every prompt file under the root counts,
 * whatever the globs say and whatever .gitignore hides (a bundler may import it): globs only narrow
 * which files are reported. A file's entry is kept under the key the command computes and under the
 * key a build last recorded for the same content (the build may have options the command cannot see).
 */
export async function prune(ctx: CommandContext): Promise<number> {
  const { engine } = ctx;
  const all = await findPromptFiles(engine.options.root, [], engine.options.cacheDir, { gitignore: false });
  // globs only narrow what is reported; every prompt file in the project protects its entries
  const shown = new Set(ctx.globs.length > 0 ? ctx.files : []);
  const items = await survey(engine, all);
  const referenced = new Set<string>();
  const blocking: SurveyItem[] = [];
  /** Each prompt file's content digest, read once (undefined: it does not parse). */
  const contents = new Map<string, string | undefined>();
  for (const item of items) {
    const content = item.prepared?.content ?? (await engine.contentOf(item.path).catch(() => undefined));
    contents.set(item.path, content);
    const ref = engine.refs.lookup(item.path);
    const recorded = ref !== undefined && content !== undefined && ref.content === content;
    if (recorded) for (const key of KeyRefs.keysOf(ref)) referenced.add(key);
    if (item.prepared) referenced.add(item.prepared.key);
    // a chain's steps, as far as the cache keys them: each paid intermediate entry is kept
    for (const link of item.links ?? []) if (link.key) referenced.add(link.key);
    else if (!recorded) blocking.push(item);
  }
  if (blocking.length > 0) {
    for (const i of blocking) if (shown.size === 0 || shown.has(i.path)) ctx.out(`invalid  ${describeError(i)}`);
    ctx.out(`refusing to prune while ${blocking.length} prompt file${blocking.length === 1 ? ' is' : 's are'} invalid and no build recorded ${blocking.length === 1 ? 'its' : 'their'} key: their images could still be wanted; fix them (or build once) first`);
    return EXIT.failed;
  }
  const store = engine.store;
  const inventory = await store.inventory();
  const removed: string[] = [];
  const kept: string[] = [];
  const keptDigests = new Set<string>();
  for (const entry of inventory.entries) {
    if (!referenced.has(entry.key)) removed.push(entry.file);
    else for (const digest of entry.digests ?? []) keptDigests.add(digest);
  }
  for (const blob of inventory.blobs) {
    if (keptDigests.has(blob.digest)) continue;
    if (blob.ageMs < PRUNE_GRACE_MS) kept.push(`${blob.file} (written ${Math.round(blob.ageMs / 1000)} s ago: a running build may be committing it)`);
    else removed.push(blob.file);
  }
  for (const temp of inventory.temps) {
    if (temp.abandoned || temp.ageMs > PRUNE_GRACE_MS) removed.push(temp.file);
    else kept.push(`${temp.file} (a temporary file a running process may still be writing)`);
  }
  // refs of prompt files that are gone or whose content changed since the build recorded them
  for (const ref of engine.refs.list()) {
    if (contents.get(join(engine.options.root, ref.file)) !== ref.content) removed.push(ref.path);
  }
  // responsive derivatives made on this machine from images no longer kept
  const derivatives = await sweepDerivatives(derivativeDir(engine.options.placeholderDir), engine.options.root, keptDigests, PRUNE_GRACE_MS);
  kept.push(...derivatives.kept);
  if (!ctx.dryRun) {
    for (const file of removed) await store.remove(file);
    for (const path of derivatives.remove) await rm(path, { force: true });
  }
  removed.push(...derivatives.remove.map((path) => relative(engine.options.root, path)));
  const remote = ctx.pruneRemote ? await pruneRemote(ctx, referenced) : { removed: [], young: 0 };
  if (remote === undefined) return EXIT.failed;
  const remoteRemoved = remote.removed;
  if (ctx.json) {
    ctx.out(JSON.stringify({ dryRun: ctx.dryRun, removed, kept, skipped: inventory.unexpected, ...(ctx.pruneRemote ? { remoteRemoved } : {}) }, null, 2));
  } else {
    for (const file of removed) ctx.out(`${ctx.dryRun ? 'would remove' : 'removed'}  ${file}`);
    for (const file of kept) ctx.out(`kept  ${file}`);
    for (const item of inventory.unexpected) ctx.out(`skipped  ${item.file} (${item.why}; left alone)`);
    for (const path of remoteRemoved) ctx.out(`${ctx.dryRun ? 'would remove' : 'removed'}  ${engine.remote!.label}/${path}`);
    const n = removed.length;
    ctx.out(
      `${n} file${n === 1 ? '' : 's'} ${ctx.dryRun ? 'would be removed' : 'removed'}, ${kept.length} kept for now, ${inventory.unexpected.length} skipped; ${referenced.size} entries are referenced by ${items.length} prompt files`,
    );
    if (ctx.pruneRemote) {
      const r = remoteRemoved.length;
      ctx.out(
        `shared cache: ${r} object${r === 1 ? '' : 's'} ${ctx.dryRun ? 'would be removed' : 'removed'}, ${remote.young} unreferenced kept (uploaded within the last day, or of unknown age). Only this checkout's prompt files were counted: an entry another branch still uses is safe only while it is younger than a day, so prune the shared cache from the branch every other branch merges into.`,
      );
    }
  }
  return EXIT.ok;
}

/**
 * The shared cache's part of prune: entries no prompt file of this checkout references, then blobs no
 * remaining entry names. Nothing uploaded in the last day is removed (another branch's build may be
 * using it, or its manifest may still be on its way), nor anything whose age the store does not tell.
 * Resolves to the paths removed (or that would be) and those kept for their age, or undefined after
 * printing an error.
 */
async function pruneRemote(ctx: CommandContext, referenced: Set<string>): Promise<{ removed: string[]; young: number } | undefined> {
  const layer = ctx.engine.remote;
  if (!layer || layer.mode !== 'write') {
    ctx.out(`imageprompt: prune --remote needs a shared cache this machine may write (${layer ? `${layer.label} is read-only here` : 'none is configured'})`);
    return undefined;
  }
  let inventory;
  try {
    inventory = await layer.inventory();
  } catch (error) {
    ctx.out(`imageprompt: cannot list the shared cache: ${(error as Error).message}`);
    return undefined;
  }
  const removed: string[] = [];
  const kept = new Set<string>();
  let unreadable = false;
  let young = 0;
  const old = (ageMs: number | undefined) => ageMs !== undefined && ageMs >= REMOTE_PRUNE_GRACE_MS;
  for (const { key, ageMs } of inventory.entries) {
    if (!referenced.has(key) && old(ageMs)) {
      removed.push(`entries/${key}.json`);
      continue;
    }
    if (!referenced.has(key)) young += 1;
    const digests = inventory.named.get(key);
    if (digests) for (const d of digests) kept.add(d);
    else unreadable = true;
  }
  // an entry kept whose manifest could not be read might name any blob: then no blob is removed
  if (!unreadable) {
    for (const blob of inventory.blobs) {
      if (kept.has(blob.digest)) continue;
      if (old(blob.ageMs)) removed.push(blob.path);
      else young += 1;
    }
  }
  if (!ctx.dryRun) for (const path of removed) await layer.removeObject(path);
  return { removed, young };
}

/** Venice's style names, live; offline (or refused), the bundled list, said so, as `models` does. */
export async function styles(ctx: CommandContext): Promise<number> {
  const url = `${ctx.engine.options.baseURL}/image/styles`;
  let names: string[] | undefined;
  let why = '';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000), redirect: 'manual' });
    if (response.ok) {
      const body = (await response.json()) as { data?: unknown } | unknown[];
      const list = Array.isArray(body) ? body : (body as { data?: unknown }).data;
      if (Array.isArray(list) && list.every((n) => typeof n === 'string')) names = list as string[];
      else why = 'its answer was not a list of names';
    } else {
      await response.body?.cancel();
      why = `HTTP ${response.status}`;
    }
  } catch (error) {
    why = (error as Error).name === 'TimeoutError' ? 'no answer in 15 s' : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
  }
  const source = names ? url : `the bundled list of ${CATALOG_DATE} (${url} could not be read: ${safeServerText(why, [], 120)})`;
  names ??= [...ctx.engine.catalog.styles];
  ctx.out(ctx.json ? JSON.stringify(names, null, 2) : names.join('\n'));
  if (!ctx.json) ctx.out(`${names.length} styles, from ${source}`);
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

/** What an edit model takes: its aspect ratios, tiers and how many images it combines. */
function editSizing(model: EditModel): string {
  const c = model.constraints;
  const parts = [`aspect_ratio ${(c.aspectRatios ?? ['auto']).join(' ')}`];
  if (c.resolutions) parts.push(`resolution ${c.resolutions.join(' ')}`);
  if (c.qualities) parts.push(`quality ${c.qualities.join(' ')}`);
  const most = maxEditImages(c);
  parts.push(`up to ${most} image${most === 1 ? '' : 's'}`);
  return parts.join('; ');
}

const usdOrUnknown = (usd: number | undefined) => (usd === undefined ? 'price unknown' : `$${usd}`);

/** A generation's or an edit's price per image: flat, per tier, or per tier × quality. */
function priceText(p: ModelPricing | EditPricing): string {
  if (p.quality) return Object.entries(p.quality).map(([tier, q]) => `${tier}: ${Object.entries(q).map(([k, v]) => `${k} $${v.usd}`).join(', ')}`).join('; ');
  if (p.resolutions) return Object.entries(p.resolutions).map(([tier, v]) => `${tier} $${v.usd}`).join(', ');
  const flat = 'generation' in p ? p.generation : 'inpaint' in p ? p.inpaint : undefined;
  return flat ? `$${flat.usd}` : 'unknown';
}

export async function models(ctx: CommandContext): Promise<number> {
  const live = await fetchLiveCatalog(ctx.engine.options.baseURL);
  const catalog = live ?? ctx.engine.catalog;
  const list = catalog.list();
  if (ctx.json) {
    ctx.out(JSON.stringify(list.map((m) => ({ id: m.id, name: m.name, sizing: sizing(m), constraints: m.constraints, pricing: m.pricing })), null, 2));
  } else {
    for (const m of list) ctx.out(`${m.id}  ${sizing(m)}  ${priceText(m.pricing)}`);
    ctx.out(`${list.length} image models, from ${live ? ctx.engine.options.baseURL : `the bundled catalog of ${CATALOG_DATE}`}`);
    // the models of "edit" steps and "api": "edit" / "multi_edit" files, and the other steps' prices
    const edits = [...catalog.editModels.values()];
    ctx.out('');
    for (const m of edits) ctx.out(`${m.id}  ${editSizing(m)}  ${priceText(m.pricing)}`);
    const { upscale, backgroundRemoval } = catalog.tools;
    ctx.out(`${edits.length} edit models; upscale 2× ${usdOrUnknown(upscale['2x'])}, 4× ${usdOrUnknown(upscale['4x'])}; background removal ${usdOrUnknown(backgroundRemoval)}`);
  }
  return EXIT.ok;
}
