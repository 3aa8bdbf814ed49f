/**
 * One step on an image (upscale, background removal, edit, multi-image edit) as Venice receives it:
 * Venice's rules checked before anything is paid (reference §6), Venice's defaults made explicit,
 * the output's size, format and price known, and the key.
 *
 * Recipe (version 1, beside the generation's in request-key.ts):
 *   key = sha256( canonical-json( { recipe: 1, provider: "venice", route, request } ) )
 * where `request` is the normalised body with each input image replaced by `sha256:<digest of its
 * bytes>`: never a path or a time, so the same bytes under another name share the entry, and an
 * edited photo, another field or an earlier step changes the key of everything downstream of it.
 */
import { ImagePromptError } from '../errors/errors.js';
import type { ImageFormat } from '../images/image-formats.js';
import { round } from '../catalog/pricing.js';
import { expectedSize } from '../catalog/expected-size.js';
import { ModelCatalog, type EditModel } from '../catalog/model-catalog.js';
import { didYouMean } from '../prompt/did-you-mean.js';
import { canonicalJson, KEY_RECIPE_VERSION, PROVIDER, sha256Hex } from '../prompt/request-key.js';
import type { NormalisedRequest } from '../prompt/request-types.js';
import type { SourceImage } from './source-images.js';

export const STEP_ROUTES = ['image/upscale', 'image/background-remove', 'image/edit', 'image/multi-edit'] as const;
export type StepRoute = (typeof STEP_ROUTES)[number];

export const DEFAULT_EDIT_MODEL = 'firered-image-edit';
/** Venice's bounds on an upscale: the input's pixels at least, the output's at most (reference §6). */
export const MIN_UPSCALE_INPUT_PIXELS = 65_536;
export const MAX_UPSCALE_OUTPUT_PIXELS = 16_777_216;
/** Input pixels the edit routes accept. */
export const MIN_EDIT_INPUT_PIXELS = 65_536;
export const MAX_EDIT_INPUT_PIXELS = 33_177_600;

/** A step as its prompt file asks for it, before its input is known. */
export interface StepSpec {
  kind: 'upscale' | 'remove_background' | 'edit' | 'multi_edit';
  /** The step's fields as written (`true` for a bare `"remove_background": true`). */
  fields: Record<string, unknown>;
  /** Where the step is in the file, for messages: `then.1.upscale`, or the file's own fields. */
  where: string | undefined;
  /** A `multi_edit` in a chain: the committed images that follow the chain's image, read and stamped. */
  extra?: SourceImage[];
}

/** What a step's input is known to be: exact once made, estimated before. */
export interface StepInput {
  width: number;
  height: number;
  /** The sha256 of its bytes, once they exist. */
  digest?: string;
  exact: boolean;
}

/** A step normalised against its inputs: what is sent (inputs aside), what comes back and what it costs. */
export interface NormalisedStep {
  route: StepRoute;
  /** The model the route runs, for prices, pacing and messages. */
  model: string;
  /** The body as the key hashes it, without the inputs. */
  body: Record<string, unknown>;
  width: number;
  height: number;
  format: ImageFormat;
  /** Whether width and height are exactly what Venice returns (else about: an edit's tier and ratio). */
  exactSize: boolean;
  /** An edit's ratio and tier, for the looser size check of aspect-ratio answers. */
  ratio?: { aspect_ratio: string; resolution: string };
  priceUsd: number | undefined;
  warnings: string[];
}

/** The key of a step: its route and normalised body, each input as the digest of its bytes. */
export function stepKey(route: StepRoute, request: Record<string, unknown>): string {
  return sha256Hex(canonicalJson({ recipe: KEY_RECIPE_VERSION, provider: PROVIDER, route, request }));
}

/** The body the key hashes: the normalised fields with the inputs' digests. */
export function keyedBody(step: NormalisedStep, digests: string[]): Record<string, unknown> {
  const named = digests.map((d) => `sha256:${d}`);
  return step.route === 'image/multi-edit' ? { ...step.body, images: named } : { ...step.body, image: named[0] };
}

/** A label for lists: `upscale 2×`, `edit (firered-image-edit)`. */
export function stepLabel(step: Pick<NormalisedStep, 'route' | 'model' | 'body'>): string {
  if (step.route === 'image/upscale') return `upscale ${String(step.body.scale)}×`;
  if (step.route === 'image/background-remove') return 'remove background';
  return `${step.route === 'image/multi-edit' ? 'multi-edit' : 'edit'} (${step.model})`;
}

/**
 * The step normalised for these inputs; throws INVALID_PROMPT_FILE (or UNKNOWN_MODEL) naming the
 * step's field when Venice would refuse it or could not honour it.
 */
export function normaliseStep(spec: StepSpec, inputs: StepInput[], catalog: ModelCatalog, fileName: string): NormalisedStep {
  const fail = (field: string | undefined, message: string, hint: string) =>
    new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: fileName, field: [spec.where, field].filter(Boolean).join('.') || undefined, message, hint });
  const fields = spec.fields;
  const input = inputs[0]!;
  const pixels = input.width * input.height;
  const about = input.exact ? '' : 'about ';
  if (spec.kind === 'upscale') {
    const asked = (fields.scale as 2 | 4 | undefined) ?? 2;
    const warnings: string[] = [];
    if (fields.format !== undefined && fields.format !== 'png') throw fail('format', `"${String(fields.format)}" cannot be honoured: Venice's upscaler answers PNG only`, 'remove "format" from this step (or set it to "png"); add "responsive" formats for WebP or AVIF copies');
    if (pixels < MIN_UPSCALE_INPUT_PIXELS) {
      throw fail(undefined, `upscales an image of ${about}${input.width}×${input.height} (${pixels} px); Venice upscales images of at least ${MIN_UPSCALE_INPUT_PIXELS} px`, 'generate a larger image first (256×256 is the least), or drop this step');
    }
    // Venice lowers 4× to 2× where 4× would pass its output limit: said, and asked for as 2×
    let scale = asked;
    if (scale === 4 && pixels * 16 > MAX_UPSCALE_OUTPUT_PIXELS) {
      scale = 2;
      warnings.push(`${spec.where ?? 'the upscale'}: 4× of ${about}${input.width}×${input.height} would pass Venice's ${MAX_UPSCALE_OUTPUT_PIXELS}-pixel limit,, where Venice quietly makes 2× instead; asking for 2×, and keyed so`);
    }
    if (pixels * scale * scale > MAX_UPSCALE_OUTPUT_PIXELS) {
      throw fail('scale', `${scale}× of ${about}${input.width}×${input.height} would be ${pixels * scale * scale} px, more than Venice's ${MAX_UPSCALE_OUTPUT_PIXELS}-pixel upscale limit`, 'upscale a smaller image, or drop this step');
    }
    const creativity = (fields.creativity as number | undefined) ?? 0.01;
    return {
      route: 'image/upscale',
      model: 'upscaler',
      body: { scale, creativity },
      width: input.width * scale,
      height: input.height * scale,
      format: 'png',
      exactSize: input.exact,
      priceUsd: catalog.tools.upscale[scale === 2 ? '2x' : '4x'],
      warnings,
    };
  }
  if (spec.kind === 'remove_background') {
    if (fields.format !== undefined && fields.format !== 'png') throw fail('format', `"${String(fields.format)}" cannot be honoured: background removal answers PNG with an alpha channel only`, 'remove "format" from this step (or set it to "png"); add "responsive" formats for WebP or AVIF copies');
    return { route: 'image/background-remove', model: 'bria-bg-remover', body: {}, width: input.width, height: input.height, format: 'png', exactSize: input.exact, priceUsd: catalog.tools.backgroundRemoval, warnings: [] };
  }
  return normaliseEdit(spec, inputs, catalog, fail);
}

function normaliseEdit(
  spec: StepSpec,
  inputs: StepInput[],
  catalog: ModelCatalog,
  fail: (field: string | undefined, message: string, hint: string) => ImagePromptError,
): NormalisedStep {
  const fields = spec.fields as { model?: string; prompt: string; aspect_ratio?: string; resolution?: string; quality?: string; format?: ImageFormat; safe_mode?: boolean; enhance_prompt?: boolean; disable_prompt_optimization_thinking?: boolean };
  const multi = spec.kind === 'multi_edit';
  const id = fields.model ?? DEFAULT_EDIT_MODEL;
  const model = catalog.editModel(id);
  if (!model) {
    const ids = [...catalog.editModels.keys()];
    const suggestion = didYouMean(id, ids);
    throw new ImagePromptError({
      code: 'UNKNOWN_MODEL',
      field: [spec.where, 'model'].filter(Boolean).join('.'),
      message: `"${id}" is not an edit model in Venice's catalog (${catalog.source})`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `use one of ${ids.join(', ')}`,
    });
  }
  const c = model.constraints;
  // defaults that go into the key come from the bundled snapshot where it knows the model (as a
  // generation's do), so machines with and without the live catalog key alike
  const d = ModelCatalog.bundled().editModel(id)?.constraints ?? c;
  const limit = c.promptCharacterLimit ?? 32_768;
  if (fields.prompt.length > limit) throw fail('prompt', `is ${fields.prompt.length} characters; ${id} accepts at most ${limit}`, 'shorten the prompt or choose an edit model with a longer limit');
  const ratios = c.aspectRatios ?? ['auto'];
  const aspect = fields.aspect_ratio ?? ((d.aspectRatios ?? ratios).includes('auto') ? 'auto' : (d.aspectRatios ?? ratios)[0]!);
  if (!ratios.includes(aspect)) throw fail('aspect_ratio', `"${aspect}" is not offered by ${id}`, `use one of ${ratios.join(', ')}`);
  const resolutions = c.resolutions ?? ['1K'];
  const resolution = fields.resolution ?? d.defaultResolution ?? c.defaultResolution ?? '1K';
  if (!resolutions.includes(resolution)) throw fail('resolution', `"${resolution}" is not offered by ${id}`, `use one of ${resolutions.join(', ')}`);
  if (fields.quality !== undefined && !c.qualities?.includes(fields.quality)) {
    throw fail('quality', `"${fields.quality}" is not offered by ${id}`, c.qualities ? `use one of ${c.qualities.join(', ')}` : `${id} has no quality tiers; remove "quality"`);
  }
  const quality = fields.quality ?? d.defaultQuality ?? c.defaultQuality;
  const most = maxEditImages(c);
  // in a chain the chain's image comes first, and `images` lists the ones after it
  const firstListed = spec.extra ? 1 : 0;
  if (multi && inputs.length > most) {
    const what = spec.extra ? `combines the chain's image with ${inputs.length - 1} more` : `lists ${inputs.length} images`;
    throw fail('images', `${what}; ${id} combines at most ${most}`, `use at most ${most} images in all, or choose an edit model that takes more (\`imageprompt models\` lists them)`);
  }
  inputs.forEach((input, i) => {
    const pixels = input.width * input.height;
    if (pixels < MIN_EDIT_INPUT_PIXELS || pixels > MAX_EDIT_INPUT_PIXELS) {
      throw fail(multi && i >= firstListed ? `images.${i - firstListed}` : undefined, `edits an image of ${input.exact ? '' : 'about '}${input.width}×${input.height} (${pixels} px); Venice edits images of ${MIN_EDIT_INPUT_PIXELS} to ${MAX_EDIT_INPUT_PIXELS} px`, 'use a larger (or smaller) image');
    }
  });
  const format = fields.format ?? (resolution === '1K' ? 'png' : 'jpeg');
  const body: Record<string, unknown> = {
    [multi ? 'modelId' : 'model']: id,
    prompt: fields.prompt,
    aspect_ratio: aspect,
    resolution,
    output_format: format,
    safe_mode: fields.safe_mode ?? true,
    ...(quality !== undefined ? { quality } : {}),
    ...(fields.enhance_prompt !== undefined ? { enhance_prompt: fields.enhance_prompt } : {}),
    ...(fields.disable_prompt_optimization_thinking !== undefined ? { disable_prompt_optimization_thinking: fields.disable_prompt_optimization_thinking } : {}),
  };
  const size = aspect === 'auto' ? autoSize(inputs[0]!, resolution) : expectedSize({ aspect_ratio: aspect, resolution } as NormalisedRequest);
  return {
    route: multi ? 'image/multi-edit' : 'image/edit',
    model: id,
    body,
    ...size,
    format,
    exactSize: false,
    ...(aspect === 'auto' ? {} : { ratio: { aspect_ratio: aspect, resolution } }),
    priceUsd: editPrice(model, resolution, quality, inputs.length),
    warnings: [],
  };
}

/** How many images an edit model combines: its `maxInputImages`, else 3 (1 for a model that cannot combine images). */
export function maxEditImages(constraints: EditModel['constraints']): number {
  return constraints.maxInputImages ?? (constraints.combineImages === false ? 1 : 3);
}

/** `auto`: the input's proportions over the tier's area (about what Venice returns). */
function autoSize(input: StepInput, resolution: string): { width: number; height: number } {
  const edge = expectedSize({ aspect_ratio: '1:1', resolution } as NormalisedRequest).width;
  const scale = Math.sqrt((edge * edge) / (input.width * input.height));
  const side = (n: number) => Math.max(16, Math.round((n * scale) / 16) * 16);
  return { width: side(input.width), height: side(input.height) };
}

/** An edit's price: the tier and quality's (else the tier's, else the flat inpaint price), plus input images past those included. */
export function editPrice(model: EditModel, resolution: string, quality: string | undefined, images: number): number | undefined {
  const p = model.pricing;
  const each = (quality ? p.quality?.[resolution]?.[quality]?.usd : undefined) ?? p.resolutions?.[resolution]?.usd ?? p.inpaint?.usd;
  if (each === undefined) return undefined;
  const extra = Math.max(0, images - (p.inputImages?.included ?? images)) * (p.inputImages?.additional?.usd ?? 0);
  return round(each + extra);
}

/**
 * The step as a native-shaped request (model, prompt, format, size), as the OpenAI route has one:
 * what placeholders, size checks and the manifest's `request` read.
 */
export function stepView(step: NormalisedStep): NormalisedRequest {
  const view: NormalisedRequest = {
    model: step.model,
    prompt: typeof step.body.prompt === 'string' ? step.body.prompt : '',
    format: step.format,
    variants: 1,
    seed: 0,
    safe_mode: step.body.safe_mode !== false,
    hide_watermark: false,
    embed_exif_metadata: false,
    enable_web_search: false,
    enhance_prompt: step.body.enhance_prompt === true,
  };
  return step.ratio ? { ...view, ...step.ratio } : { ...view, width: step.width, height: step.height };
}

/**
 * The steps a prompt file's `then` lists, as specs; `readImage` reads a committed image a
 * `multi_edit` step names (relative to the prompt file), with the step's field for messages.
 */
export function thenSpecs(then: readonly Record<string, unknown>[] | undefined, readImage: (written: string, field: string) => SourceImage): StepSpec[] {
  return (then ?? []).map((step, i) => {
    const [kind, value] = Object.entries(step)[0]! as [StepSpec['kind'], unknown];
    const where = `then.${i}.${kind}`;
    const { images, ...fields } = typeof value === 'object' && value !== null ? (value as Record<string, unknown> & { images?: string[] }) : {};
    return { kind, fields, where, ...(images ? { extra: images.map((written, j) => readImage(written, `${where}.images.${j}`)) } : {}) };
  });
}
