/**
 * A chain resolved step by step: the head request (a generation, or the first step on committed
 * images), then each step on the image before it. A step's key needs its input's bytes, so it is
 * known only once the step before is cached; each step is then an ordinary request of the engine
 * (looked up, paid once under its key's lock, committed, shared), so that changing the last step
 * pays for that step alone. Where a step is not to be had (placeholder and frozen modes), the rest of
 * the chain cannot be keyed: the import gets a placeholder of the final step's size.
 *
 * `walkChain` goes the same way through the cache without paying or drawing anything: which steps
 * are there and which would be paid, for `plan`, `check`, `prune` and the dev server.
 */
import type { EntryPlace } from '../cache/cache-port.js';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { ImageFormat } from '../images/image-formats.js';
import type { NormalisedRequest, PreparedRequest } from '../prompt/request-types.js';
import { stepRequest, type ChainImage, type PlannedStep, type PreparedChain } from '../steps/prepare-chain.js';
import { stepLabel, type StepRoute } from '../steps/step-request.js';
import { expectedSize } from '../catalog/expected-size.js';
import type { ImageStatus } from './build-report.js';

/** One link of a chain as the import lists it (`steps`): the head request first. */
export interface ChainStep {
  /** The request key; null where it cannot be known yet (an earlier step is not made). */
  key: string | null;
  route: 'image/generate' | 'images/generations' | StepRoute;
  label: string;
  width: number;
  height: number;
  format: ImageFormat;
  status: ImageStatus;
}

/** What resolving one request gives (a shared result of the engine). */
export interface LinkResult {
  key: string;
  seed: number;
  status: ImageStatus;
  images: { path: string; width: number; height: number; format: ImageFormat; digest: string | null }[];
}

export interface ChainParts<R extends LinkResult> {
  /** The request's result, from the cache, paid for, or a placeholder (shared per key). */
  obtain(prepared: PreparedRequest): Promise<R>;
  catalog(): ModelCatalog;
  warn(message: string): void;
  /** A stand-in image of this size and format, as the mode draws one. */
  placeholder(request: NormalisedRequest, status: ImageStatus): Promise<R['images']>;
}

export type Chained = PreparedRequest & { chain: PreparedChain };

/** The head request's route and label, as `steps` lists it. */
function headLink(prepared: PreparedRequest): Pick<ChainStep, 'route' | 'label'> {
  if (prepared.step) return { route: prepared.step.route, label: stepLabel(prepared.step) };
  if (prepared.send) return { route: prepared.send.route, label: `generate (${prepared.request.model})` };
  return { route: 'image/generate', label: `generate (${prepared.request.model})` };
}

function linkOf(prepared: PreparedRequest, result: LinkResult, head: boolean): ChainStep {
  const image = result.images[0]!;
  const { route, label } = head ? headLink(prepared) : { route: prepared.step!.route, label: stepLabel(prepared.step!) };
  return { key: result.key, route, label, width: image.width, height: image.height, format: image.format, status: result.status };
}

/** The request whose size the import ends with: a chain's last planned step, or the request itself. */
export function finalView(prepared: PreparedRequest): NormalisedRequest {
  const last = prepared.chain?.planned.at(-1);
  return last ? plannedView(last) : prepared.request;
}

/** A planned step as a native-shaped request, for its placeholder. */
function plannedView(planned: PlannedStep): NormalisedRequest {
  return { model: planned.label, prompt: '', format: planned.format, variants: 1, seed: 0, safe_mode: true, hide_watermark: false, embed_exif_metadata: false, enable_web_search: false, enhance_prompt: false, width: planned.width, height: planned.height };
}

export async function runChain<R extends LinkResult>(prepared: Chained, name: string, parts: ChainParts<R>): Promise<R & { steps: ChainStep[] }> {
  const { chain } = prepared;
  let result = await parts.obtain(prepared);
  const steps = [linkOf(prepared, result, true)];
  for (const [i, spec] of chain.steps.entries()) {
    if (result.status !== 'cached' && result.status !== 'generated') {
      // the steps after a stand-in cannot be keyed: the import stands in at the final size
      for (const planned of chain.planned.slice(i)) steps.push({ key: null, route: planned.route, label: planned.label, width: planned.width, height: planned.height, format: planned.format, status: result.status });
      const images = await parts.placeholder(plannedView(chain.planned.at(-1)!), result.status);
      return { ...result, images, steps };
    }
    const image = result.images[0]!;
    const step = stepRequest(spec, [{ path: image.path, digest: image.digest!, width: image.width, height: image.height }, ...(spec.extra ?? [])], parts.catalog(), name, { alt: prepared.alt, responsive: prepared.responsive });
    for (const warning of step.warnings) parts.warn(`${name}: ${warning}`);
    result = await parts.obtain(step);
    steps.push(linkOf(step, result, false));
  }
  return { ...result, steps };
}

/** One link as the cache has it: where its entry is (if anywhere), and what it costs to make. */
export interface WalkedLink {
  key: string | null;
  label: string;
  route: ChainStep['route'];
  place: EntryPlace | undefined;
  width: number;
  height: number;
  format: ImageFormat;
  priceUsd: number | undefined;
}

/** Where an entry was found, and its first image (what keys the step after it). */
export interface Located {
  place: EntryPlace;
  image: ChainImage;
}

export interface WalkParts {
  /** The entry's place and first image, if it is cached anywhere this engine serves from. */
  locate(key: string): Promise<Located | undefined>;
  catalog(): ModelCatalog;
  priceOf(prepared: PreparedRequest): number | undefined;
}

/**
 * A request's links through the cache, paying nothing: keyed as far as cached images allow, priced
 * all the way (a single request is a chain of one).
 */
export async function walkChain(prepared: PreparedRequest, name: string, parts: WalkParts): Promise<WalkedLink[]> {
  const head = await parts.locate(prepared.key);
  const links: WalkedLink[] = [{ key: prepared.key, ...headLink(prepared), place: head?.place, ...expectedSize(prepared.request), format: prepared.request.format, priceUsd: parts.priceOf(prepared) }];
  let input = head?.image;
  for (const [i, spec] of (prepared.chain?.steps ?? []).entries()) {
    const planned = prepared.chain!.planned[i]!;
    if (!input) {
      links.push({ key: null, label: planned.label, route: planned.route, place: undefined, width: planned.width, height: planned.height, format: planned.format, priceUsd: planned.priceUsd });
      continue;
    }
    const step = stepRequest(spec, [input, ...(spec.extra ?? [])], parts.catalog(), name, { alt: prepared.alt, responsive: prepared.responsive });
    const found = await parts.locate(step.key);
    links.push({ key: step.key, label: stepLabel(step.step), route: step.step.route, place: found?.place, ...expectedSize(step.request), format: step.step.format, priceUsd: parts.priceOf(step) });
    input = found?.image;
  }
  return links;
}
