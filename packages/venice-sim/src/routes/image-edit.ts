/**
 * `POST /image/edit` and `POST /image/multi-edit` (reference §6): images plus a prompt, to an edit
 * model of the catalog (`type: "inpaint"`). `/image/edit` takes one `image` (base64, a file, or an
 * http(s) URL) and `model` (default `firered-image-edit`; `modelId` is its deprecated alias);
 * `/image/multi-edit` takes `images` (base first; JSON list or repeated file parts) up to the model's
 * `maxInputImages` (absent: 3, or 1 when it cannot combine images) and `modelId` only. Both check the
 * prompt against the model's limit, `aspect_ratio`, `resolution` and `quality` against its
 * constraints, inputs of 65,536 to 33,177,600 px, answer a prompt holding the violation trigger with
 * 422, and otherwise the edited image (the first input, recoloured by the prompt, at the aspect ratio
 * and resolution asked) in `output_format` (PNG at 1K, JPEG above, when not given). Price: the
 * model's inpaint price for the resolution and quality, plus its price per input image beyond those
 * included.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import sharp from 'sharp';
import { standardError, type ApiError } from '../api-errors.js';
import { imagePrice, type CatalogModel } from '../catalog.js';
import { ratioToPixels } from '../generate-request.js';
import { booleanField, decodeImage, readImageRequest, unknownFields, type InputImage } from '../image-input.js';
import { errorReply, type Reply } from '../replies.js';
import { baseHeaders, type SimState } from '../sim-state.js';
import { VIOLATION_TRIGGER } from '../triggers.js';
import { paidImage, refused } from './paid-image.js';

export const DEFAULT_EDIT_MODEL = 'firered-image-edit';
const MIN_INPUT_PIXELS = 65_536;
const MAX_INPUT_PIXELS = 33_177_600;
const OUTPUT_FORMATS = ['jpeg', 'png', 'webp'] as const;
const COMMON_FIELDS = ['prompt', 'aspect_ratio', 'resolution', 'output_format', 'quality', 'safe_mode', 'enhance_prompt', 'disable_prompt_optimization_thinking'];

interface EditConstraints {
  aspectRatios?: string[];
  promptCharacterLimit?: number;
  combineImages?: boolean;
  maxInputImages?: number;
  defaultResolution?: string;
  resolutions?: string[];
  defaultQuality?: string;
  qualities?: string[];
}

export async function handleEdit(state: SimState, req: IncomingMessage, raw: Buffer, caller: string): Promise<Reply> {
  return edit(state, req, raw, caller, false);
}

export async function handleMultiEdit(state: SimState, req: IncomingMessage, raw: Buffer, caller: string): Promise<Reply> {
  return edit(state, req, raw, caller, true);
}

async function edit(state: SimState, req: IncomingMessage, raw: Buffer, caller: string, multi: boolean): Promise<Reply> {
  const parsed = await readImageRequest(req, raw);
  if (!parsed.ok) return errorReply(parsed.error, baseHeaders());
  const { fields } = parsed.value;
  const modelName = String((multi ? fields.modelId : (fields.model ?? fields.modelId)) ?? DEFAULT_EDIT_MODEL);
  const scope = `${caller}|${modelName}`;
  const unknown = unknownFields(fields, multi ? ['modelId', 'images', ...COMMON_FIELDS] : ['model', 'modelId', 'image', ...COMMON_FIELDS]);
  if (unknown) return refused(state, scope, unknown);
  const model = state.models.get(modelName);
  if (!model || model.type !== 'inpaint') return refused(state, scope, standardError(404, `Specified model not found: ${modelName} is not an image edit model`));
  const constraints = (model.model_spec.constraints ?? {}) as EditConstraints;
  const checked = checkFields(fields, constraints);
  if ('status' in checked) return refused(state, scope, checked);

  const given = multi ? (Array.isArray(fields.images) ? fields.images : fields.images === undefined ? [] : [fields.images]) : [fields.image];
  const most = constraints.maxInputImages ?? (constraints.combineImages === false ? 1 : 3);
  if (multi && (given.length < 1 || given.length > most)) return refused(state, scope, standardError(400, `images must hold 1 to ${most} images for ${model.id}`));
  const images: InputImage[] = [];
  for (const [i, value] of given.entries()) {
    const image = await decodeImage(value, multi ? `images[${i}]` : 'image', true);
    if (!image.ok) return refused(state, scope, image.error);
    const pixels = image.value.width * image.value.height;
    if (pixels < MIN_INPUT_PIXELS || pixels > MAX_INPUT_PIXELS) {
      return refused(state, scope, standardError(400, `${multi ? `images[${i}]` : 'image'} must have ${MIN_INPUT_PIXELS} to ${MAX_INPUT_PIXELS} pixels`));
    }
    images.push(image.value);
  }
  if (checked.prompt.includes(VIOLATION_TRIGGER)) {
    return refused(state, scope, { status: 422, body: { error: 'Your request was flagged for a content policy violation' }, countsTowardBudget: true });
  }
  const base = images[0]!;
  const size = checked.aspectRatio === 'auto' ? autoSize(base, checked.resolution) : ratioToPixels(checked.aspectRatio, checked.resolution);
  return paidImage(state, caller, {
    scope,
    priceUsd: editPrice(model, checked.resolution, checked.quality, images.length),
    headers: { 'x-venice-is-content-violation': 'false', 'x-venice-model-id': model.id, 'x-venice-model-name': model.model_spec.name },
    make: async () => {
      const hue = createHash('sha256').update(checked.prompt).digest()[0]! + 30;
      const bytes = await sharp(base.bytes).resize(size.width, size.height, { fit: 'cover' }).modulate({ hue }).toFormat(checked.outputFormat).toBuffer();
      return { bytes, contentType: `image/${checked.outputFormat}` };
    },
  });
}

interface CheckedFields {
  prompt: string;
  aspectRatio: string;
  resolution: string;
  quality: string | undefined;
  outputFormat: (typeof OUTPUT_FORMATS)[number];
}

function checkFields(fields: Record<string, unknown>, constraints: EditConstraints): CheckedFields | ApiError {
  const limit = constraints.promptCharacterLimit ?? 32_768;
  const prompt = fields.prompt;
  if (typeof prompt !== 'string' || prompt.length < 1 || prompt.length > limit) return standardError(400, `prompt must be a string of 1 to ${limit} characters`);
  const ratios = constraints.aspectRatios ?? ['auto'];
  const aspectRatio = fields.aspect_ratio === undefined ? (ratios.includes('auto') ? 'auto' : ratios[0]!) : String(fields.aspect_ratio);
  if (!ratios.includes(aspectRatio)) return standardError(400, `aspect_ratio must be one of ${ratios.join(', ')}`);
  const resolutions = constraints.resolutions ?? ['1K'];
  const resolution = fields.resolution === undefined ? (constraints.defaultResolution ?? '1K') : String(fields.resolution);
  if (!resolutions.includes(resolution)) return standardError(400, `resolution must be one of ${resolutions.join(', ')}`);
  let quality: string | undefined;
  if (fields.quality !== undefined) {
    if (!constraints.qualities?.includes(String(fields.quality))) return standardError(400, constraints.qualities ? `quality must be one of ${constraints.qualities.join(', ')}` : 'quality is not supported by this model');
    quality = String(fields.quality);
  } else quality = constraints.defaultQuality;
  const outputFormat = (fields.output_format === undefined ? (resolution === '1K' ? 'png' : 'jpeg') : String(fields.output_format)) as CheckedFields['outputFormat'];
  if (!OUTPUT_FORMATS.includes(outputFormat)) return standardError(400, `output_format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  for (const name of ['safe_mode', 'enhance_prompt', 'disable_prompt_optimization_thinking']) {
    if (fields[name] !== undefined && booleanField(fields[name]) === undefined) return standardError(400, `${name} must be a boolean`);
  }
  return { prompt, aspectRatio, resolution, quality, outputFormat };
}

/** `auto`: the base image's proportions over the resolution's area, sides rounded to 16. */
function autoSize(base: InputImage, resolution: string): { width: number; height: number } {
  const side = ratioToPixels('1:1', resolution).width;
  const scale = Math.sqrt((side * side) / (base.width * base.height));
  const round = (n: number) => Math.max(16, Math.round((n * scale) / 16) * 16);
  return { width: round(base.width), height: round(base.height) };
}

function editPrice(model: CatalogModel, resolution: string, quality: string | undefined, inputs: number): number {
  const pricing = model.model_spec.pricing as { inputImages?: { included?: number; additional?: { usd: number } } };
  const extra = Math.max(0, inputs - (pricing.inputImages?.included ?? inputs)) * (pricing.inputImages?.additional?.usd ?? 0);
  return imagePrice(model, resolution, quality) + extra;
}
