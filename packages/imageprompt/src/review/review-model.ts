/**
 * What the review page shows, gathered without spending anything: every prompt file with its
 * status, request, price and images (from the local cache, or the shared one when configured), and
 * with `since`, what changed against a git ref: the request before and after, field by field, the
 * image before (the old request's cache entry) and after, and the change in spend.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ImagePromptEngine, PreparedPromptFile } from '../engine/engine.js';
import { ImagePromptError } from '../errors/errors.js';
import type { ImageFormat } from '../images/image-formats.js';
import { expectedSize } from '../catalog/expected-size.js';
import { parsePromptFile } from '../prompt/prompt-file.js';
import { changedPromptFiles, contentAt, type ChangeKind } from './git-history.js';

export type ReviewStatus = 'cached' | 'missing' | 'invalid';

export interface ReviewImage {
  /** Absolute path of the cached bytes. */
  source: string;
  digest: string;
  width: number;
  height: number;
  format: ImageFormat;
}

/** One link of a chain: the committed image it starts from, the generation, or a step. */
export interface ReviewStep {
  label: string;
  /** null for a step whose input is not made yet (its key is not known). */
  key: string | null;
  status: 'cached' | 'missing' | 'source';
  width: number;
  height: number;
  format: ImageFormat;
  priceUsd: number | null;
  image?: ReviewImage;
}

/** One request (a prompt file now, or as it was at the ref). */
export interface ReviewRequest {
  status: ReviewStatus;
  error?: string;
  /** Its cache entry is there but damaged (a manifest or blob that fails its checks): shown, and generated again. */
  damaged?: boolean;
  /** Its image is a simulator's drawing (the simulator said so when it made it): shown as such, never as spend. */
  simulator?: boolean;
  key?: string;
  prompt?: string;
  model?: string;
  width?: number;
  height?: number;
  format?: string;
  seed?: number;
  /** Whether the seed was written in the prompt file or derived from its request. */
  seedSource?: 'file' | 'derived';
  variants?: number;
  /** Paid (cached) or to be paid (missing), at catalog prices; null when the catalog has none. */
  priceUsd: number | null;
  generatedAt?: string;
  responseId?: string | null;
  /** The normalised request, for the field-level diff. */
  request?: Record<string, unknown>;
  images: ReviewImage[];
  /** A chain, link by link: the committed images it starts from, then each request with its image. */
  steps?: ReviewStep[];
}

export interface ReviewChange {
  kind: ChangeKind;
  before?: ReviewRequest;
  /** Fields of the normalised request that differ (nested fields as `a.b`). */
  fields: { field: string; before: unknown; after: unknown }[];
  /** After minus before, in US dollars (what the change costs or saves). */
  spendDeltaUsd: number;
}

export interface ReviewItem extends ReviewRequest {
  /** Path relative to the project root, forward slashes. */
  file: string;
  folder: string;
  change?: ReviewChange;
}

export interface ReviewSummary {
  counts: Record<ReviewStatus, number>;
  /** What the cached images cost. */
  spentUsd: number;
  /** What the missing ones will cost. */
  missingUsd: number;
  unpriced: number;
  /** Cached images that are a simulator's drawings: counted apart, never as spend. */
  drawings: number;
  since?: string;
  changes?: Record<ChangeKind, number>;
}

export interface ReviewModel {
  items: ReviewItem[];
  summary: ReviewSummary;
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
const slash = (path: string) => path.split('\\').join('/');

/** A chain: each link's image where it is cached; cached when every link is, priced by what was (or is to be) paid. */
async function describeChain(engine: ImagePromptEngine, prepared: PreparedPromptFile, name: string): Promise<ReviewRequest> {
  const links = await engine.walk(prepared, name, { drawings: true });
  const steps: ReviewStep[] = (prepared.chain?.sources ?? []).map((source) => ({
    label: `committed image ${source.path.slice(engine.options.root.length + 1).split('\\').join('/')}`,
    key: null,
    status: 'source',
    width: source.width,
    height: source.height,
    format: source.format,
    priceUsd: null,
    image: { source: source.path, digest: source.digest, width: source.width, height: source.height, format: source.format },
  }));
  let drawings = 0;
  for (const link of links) {
    const entry = link.key && link.place ? await engine.entries.read(link.key) : undefined;
    const output = entry?.manifest.outputs[0];
    if (entry?.manifest.origin?.simulator) drawings += 1;
    steps.push({
      label: link.label,
      key: link.key,
      status: entry ? 'cached' : 'missing',
      width: output?.width ?? link.width,
      height: output?.height ?? link.height,
      format: output?.format ?? link.format,
      priceUsd: entry?.manifest.origin?.simulator ? 0 : (link.priceUsd ?? null),
      ...(entry && output ? { image: { source: entry.paths[0]!, digest: output.digest, width: output.width, height: output.height, format: output.format } } : {}),
    });
  }
  const made = steps.filter((s) => s.status !== 'source');
  const cached = made.every((s) => s.status === 'cached');
  const last = made.at(-1)!;
  const priced = (list: ReviewStep[]) => (list.some((s) => s.priceUsd === null) ? null : round(list.reduce((sum, s) => sum + s.priceUsd!, 0)));
  return {
    key: last.key ?? prepared.key,
    prompt: prepared.request.prompt || undefined,
    model: prepared.request.model,
    width: last.width,
    height: last.height,
    format: last.format,
    variants: 1,
    // paid for all of it (cached), or what is left to pay
    priceUsd: priced(cached ? made : made.filter((s) => s.status === 'missing')),
    request: { ...(prepared.request as unknown as Record<string, unknown>), steps: made.map((s) => s.label) },
    status: cached ? 'cached' : 'missing',
    // a chain a simulator drew (any step of it): shown as such, never as spend
    ...(drawings > 0 ? { simulator: true } : {}),
    images: cached && last.image ? [last.image] : [],
    steps,
  };
}

async function describe(engine: ImagePromptEngine, prepared: PreparedPromptFile, name: string): Promise<ReviewRequest> {
  if (prepared.chain) return describeChain(engine, prepared, name);
  const { request, key } = prepared;
  const entry = await engine.entries.read(key);
  const size = expectedSize(request);
  const base = {
    key,
    prompt: request.prompt,
    model: request.model,
    width: size.width,
    height: size.height,
    format: request.format,
    seed: request.seed,
    seedSource: prepared.seedSource,
    variants: request.variants,
    priceUsd: engine.priceOf(prepared) ?? null,
    request: request as unknown as Record<string, unknown>,
  };
  if (!entry) {
    // an entry that is there but fails its checks reads as a miss: said so, not hidden
    const damaged = existsSync(engine.store.manifestPath(key));
    return { ...base, status: 'missing', images: [], ...(damaged ? { damaged, error: 'its cache entry is damaged (a manifest or image that fails its checks); it is generated again on the next build' } : {}) };
  }
  const { manifest, paths } = entry;
  return {
    ...base,
    status: 'cached',
    ...(manifest.origin?.simulator ? { simulator: true, priceUsd: 0 } : {}),
    generatedAt: manifest.createdAt,
    responseId: manifest.response.id,
    images: manifest.outputs.map((output, i) => ({ source: paths[i]!, digest: output.digest, width: output.width, height: output.height, format: output.format })),
  };
}

async function requestOf(engine: ImagePromptEngine, name: string, load: () => Promise<PreparedPromptFile>): Promise<ReviewRequest> {
  try {
    return await describe(engine, await load(), name);
  } catch (error) {
    if (!(error instanceof ImagePromptError)) throw error;
    return { status: 'invalid', error: error.message, priceUsd: null, images: [] };
  }
}

/** Leaf values of two requests that differ, as `field` paths. */
export function fieldChanges(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): ReviewChange['fields'] {
  const out: ReviewChange['fields'] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[key], b[key], path ? `${path}.${key}` : key);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field: path, before: a, after: b });
  };
  walk(before ?? {}, after ?? {}, '');
  return out;
}

export async function reviewModel(engine: ImagePromptEngine, files: string[], since?: string): Promise<ReviewModel> {
  const root = engine.options.root;
  const items: ReviewItem[] = await Promise.all(
    files.map(async (path) => {
      const file = slash(relative(root, path));
      const folder = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';
      return { file, folder, ...(await requestOf(engine, file, () => engine.prepare(path))) };
    }),
  );
  let changes: ReviewSummary['changes'];
  if (since !== undefined) {
    changes = { added: 0, modified: 0, removed: 0 };
    const byFile = new Map(items.map((item) => [item.file, item]));
    for (const { file, kind } of await changedPromptFiles(root, since)) {
      const now = byFile.get(file);
      // a change outside the globs reviewed is not this review's
      if (kind !== 'removed' && !now) continue;
      const before =
        kind === 'added'
          ? undefined
          : await requestOf(engine, `${file} at ${since}`, async () => engine.preparePrompt(parsePromptFile(await contentAt(root, since, file), `${file} at ${since}`), `${file} at ${since}`, { quiet: true, path: join(root, file) }));
      const after = kind === 'removed' ? undefined : now;
      const change: ReviewChange = {
        kind,
        ...(before ? { before } : {}),
        // a whole request added or removed is shown as it is, not as a field-by-field diff; a seed
        // derived from the request on both sides follows the fields that changed, and is not one
        fields: kind === 'modified' ? fieldChanges(before?.request, after?.request).filter((f) => !(f.field === 'seed' && before?.seedSource === 'derived' && after?.seedSource === 'derived')) : [],
        spendDeltaUsd: round((after?.priceUsd ?? 0) - (before?.priceUsd ?? 0)),
      };
      // an edit that changes nothing the key hashes (alt, key order) is no change to review
      if (kind === 'modified' && before?.key !== undefined && before.key === after?.key) continue;
      changes[kind] += 1;
      if (after) after.change = change;
      else {
        const folder = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';
        items.push({ file, folder, status: before?.status ?? 'invalid', priceUsd: null, images: [], change });
      }
    }
  }
  items.sort((a, b) => a.file.localeCompare(b.file));
  const live = items.filter((item) => item.change?.kind !== 'removed');
  const counts: Record<ReviewStatus, number> = { cached: 0, missing: 0, invalid: 0 };
  for (const item of live) counts[item.status] += 1;
  const summary: ReviewSummary = {
    counts,
    spentUsd: round(live.filter((i) => i.status === 'cached').reduce((sum, i) => sum + (i.priceUsd ?? 0), 0)),
    missingUsd: round(live.filter((i) => i.status === 'missing').reduce((sum, i) => sum + (i.priceUsd ?? 0), 0)),
    unpriced: live.filter((i) => i.status !== 'invalid' && i.priceUsd === null).length,
    drawings: live.filter((i) => i.simulator).length,
    ...(since !== undefined ? { since, changes } : {}),
  };
  return { items, summary };
}
