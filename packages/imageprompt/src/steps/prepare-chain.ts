/**
 * A prompt file's chain, prepared: the head request (a generation, or the first step on committed
 * images) and the steps after it, each checked against the size its input will have before anything
 * is paid (an edit at "auto" is known only about; its exact size is checked again before the next
 * step is sent). A step's key needs its input's bytes, so only steps on committed images have a key
 * here; the engine finds the others step by step (`engine/chain-runner.ts`).
 */
import { ImagePromptError } from '../errors/errors.js';
import type { ImageFormat } from '../images/image-formats.js';
import { expectedSize } from '../catalog/expected-size.js';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { NormalisedRequest, PreparedRequest } from '../prompt/request-types.js';
import { responsiveSpec } from '../prompt/request-types.js';
import type { SourcePromptFile } from './step-schema.js';
import { readSourceImage, type SourceImage } from './source-images.js';
import { keyedBody, normaliseStep, stepKey, stepLabel, stepView, thenSpecs, type NormalisedStep, type StepInput, type StepRoute, type StepSpec } from './step-request.js';

/** What a prepared request sends when it is a step on images (as `send` is for the OpenAI route). */
export interface StepSend {
  route: StepRoute;
  model: string;
  /** The body the key hashes: the inputs as `sha256:<digest>`. */
  body: Record<string, unknown>;
  /** The input images in order; their bytes replace the digests when sent. */
  inputs: { path: string; digest: string }[];
  format: ImageFormat;
  /** What the answer's size is checked against; undefined for an edit at "auto" (only the absolute bounds). */
  check: NormalisedRequest | undefined;
  /** The catalog's price, when it has one. */
  priceUsd: number | undefined;
}

/** A step's size, format and price before its input exists. */
export interface PlannedStep {
  route: StepRoute;
  label: string;
  width: number;
  height: number;
  format: ImageFormat;
  priceUsd: number | undefined;
}

export interface PreparedChain {
  /** The committed images an `"api"` file starts from, each with its stamp. */
  sources: SourceImage[];
  /** The steps after the head request, as the file asks for them. */
  steps: StepSpec[];
  /** Each of those, normalised against its estimated input. */
  planned: PlannedStep[];
}

/** An input the engine has in hand: a cached image or a committed one. */
export interface ChainImage {
  path: string;
  digest: string;
  width: number;
  height: number;
}

/** The prepared request of one step on these images. */
export function stepRequest(spec: StepSpec, images: ChainImage[], catalog: ModelCatalog, fileName: string, own: Pick<PreparedRequest, 'alt' | 'responsive'>): PreparedRequest & { step: StepSend } {
  const step = normaliseStep(spec, images.map((i) => ({ ...i, exact: true })), catalog, fileName);
  const body = keyedBody(step, images.map((i) => i.digest));
  return {
    request: stepView(step),
    key: stepKey(step.route, body),
    seedSource: 'derived',
    ...own,
    warnings: step.warnings,
    step: { route: step.route, model: step.model, body, inputs: images.map(({ path, digest }) => ({ path, digest })), format: step.format, check: step.exactSize || step.ratio ? stepView(step) : undefined, priceUsd: step.priceUsd },
  };
}

/** The steps after a head of this size, checked and sized in turn (throws at the first Venice would refuse). */
export function planSteps(specs: StepSpec[], head: StepInput, catalog: ModelCatalog, fileName: string): { planned: PlannedStep[]; warnings: string[] } {
  const planned: PlannedStep[] = [];
  const warnings: string[] = [];
  let input = head;
  for (const spec of specs) {
    const step: NormalisedStep = normaliseStep(spec, [input, ...(spec.extra ?? []).map((image) => ({ ...image, exact: true }))], catalog, fileName);
    warnings.push(...step.warnings);
    planned.push({ route: step.route, label: stepLabel(step), width: step.width, height: step.height, format: step.format, priceUsd: step.priceUsd });
    input = { width: step.width, height: step.height, exact: input.exact && step.exactSize };
  }
  return { planned, warnings };
}

/** Where a prompt file is, for the committed images it names: its path, the project root and its name in messages. */
export interface PromptPlace {
  path: string;
  root: string;
  name: string;
}

/** The steps of `then`, the committed images a `multi_edit` step names read (and stamped) now. */
function chainSteps(then: readonly Record<string, unknown>[] | undefined, place: PromptPlace): StepSpec[] {
  return thenSpecs(then, (written, field) => readSourceImage(place.path, written, place.root, place.name, field));
}

/** The committed images of steps, in order: what the hit index stamps and a bundler watches. */
const extraSources = (steps: StepSpec[]) => steps.flatMap((step) => step.extra ?? []);

/** A generation with `then`: the chain after it, checked against the generation's expected size. */
export function chainAfterGeneration(prepared: PreparedRequest, then: readonly Record<string, unknown>[], catalog: ModelCatalog, place: PromptPlace, exactHead: boolean): PreparedRequest {
  const fileName = place.name;
  if (prepared.request.variants !== 1) {
    throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: fileName, field: 'then', message: `works on one image, and "variants" asks for ${prepared.request.variants}`, hint: 'remove "variants" (or set it to 1), or the chain' });
  }
  const steps = chainSteps(then, place);
  const { planned, warnings } = planSteps(steps, { ...expectedSize(prepared.request), exact: exactHead }, catalog, fileName);
  return { ...prepared, warnings: [...prepared.warnings, ...warnings], chain: { sources: extraSources(steps), steps, planned } };
}

/** An `"api"` file: its committed images read, its own step as the head request, `then` after it. */
export function prepareSourceFile(file: SourcePromptFile, catalog: ModelCatalog, place: PromptPlace): PreparedRequest {
  const fileName = place.name;
  const { api, $schema: _schema, alt, responsive, then, ...fields } = file;
  const written = 'images' in fields ? fields.images : [fields.image];
  const sources = written.map((path, i) => readSourceImage(place.path, path, place.root, fileName, 'images' in fields ? `images.${i}` : 'image'));
  const { image: _image, images: _images, ...own } = fields as typeof fields & { image?: string; images?: string[] };
  const head: StepSpec = { kind: api, fields: own, where: undefined };
  const prepared = stepRequest(head, sources, catalog, fileName, { alt, responsive: responsiveSpec(responsive) });
  const steps = chainSteps(then, place);
  const exact = prepared.step.check !== undefined && prepared.step.check.aspect_ratio === undefined;
  const { planned, warnings } = planSteps(steps, { ...expectedSize(prepared.request), exact }, catalog, fileName);
  return { ...prepared, warnings: [...prepared.warnings, ...warnings], chain: { sources: [...sources, ...extraSources(steps)], steps, planned } };
}
