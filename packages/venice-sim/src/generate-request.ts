/**
 * Validation of `POST /image/generate` bodies as Venice does it (reference §2.1, §2.7):
 * a strict schema, then the per-model checks from the catalog.
 */
import { MESSAGES, detailedError, standardError, type ApiError, type ValidationIssue } from './api-errors.js';
import { REJECTS_PIXEL_SIZE, RETIRED_MODELS, STEP_MODELS, type CatalogModel } from './catalog.js';
import { STYLE_PRESETS } from './styles.js';

export type ImageFormat = 'webp' | 'png' | 'jpeg';

export interface GenerateRequest {
  model: string;
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  aspect_ratio?: string;
  resolution?: string;
  quality?: string;
  cfg_scale?: number;
  steps?: number;
  seed?: number;
  variants: number;
  format: ImageFormat;
  return_binary: boolean;
  safe_mode: boolean;
  hide_watermark: boolean;
  embed_exif_metadata: boolean;
  lora_strength?: number;
  style_preset?: string;
  enable_web_search: boolean;
  enhance_prompt: boolean;
  disable_prompt_optimization_thinking?: boolean;
  style_references?: { image: string; strength?: number }[];
  anon_user_id?: string;
}

export interface ValidatedGenerate {
  request: GenerateRequest;
  model: CatalogModel;
  /** Pixel size of every returned image. */
  pixelWidth: number;
  pixelHeight: number;
  /** Resolution and quality tier used for pricing. */
  resolution?: string;
  quality?: string;
}

type FieldCheck = (value: unknown) => string | undefined;

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const isBool: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : `Expected boolean, received ${typeName(v)}`);
const isString: FieldCheck = (v) => (typeof v === 'string' ? undefined : `Expected string, received ${typeName(v)}`);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function intIn(min: number, max: number, exclusiveMin = false): FieldCheck {
  return (v) => {
    if (typeof v !== 'number') return `Expected number, received ${typeName(v)}`;
    if (!Number.isInteger(v)) return 'Expected integer, received float';
    if (exclusiveMin ? v <= min : v < min) return `Number must be greater than ${exclusiveMin ? '' : 'or equal to '}${min}`;
    if (v > max) return `Number must be less than or equal to ${max}`;
    return undefined;
  };
}

function stringLength(min: number, max: number): FieldCheck {
  return (v) => {
    if (typeof v !== 'string') return `Expected string, received ${typeName(v)}`;
    if (v.length < min) return `String must contain at least ${min} character(s)`;
    if (v.length > max) return `String must contain at most ${max} character(s)`;
    return undefined;
  };
}

const FIELDS: Record<string, FieldCheck> = {
  model: isString,
  prompt: stringLength(1, 32768),
  negative_prompt: stringLength(0, 7500),
  width: intIn(0, 1280, true),
  height: intIn(0, 1280, true),
  aspect_ratio: isString,
  resolution: isString,
  quality: (v) => (v === 'low' || v === 'medium' || v === 'high' ? undefined : enumMessage(['low', 'medium', 'high'], v)),
  cfg_scale: (v) =>
    typeof v !== 'number' ? `Expected number, received ${typeName(v)}` : v <= 0 || v > 20 ? 'Number must be greater than 0 and at most 20' : undefined,
  steps: intIn(1, 1_000_000),
  seed: intIn(-999_999_999, 999_999_999),
  variants: intIn(1, 4),
  format: (v) => (v === 'webp' || v === 'png' || v === 'jpeg' ? undefined : enumMessage(['jpeg', 'png', 'webp'], v)),
  return_binary: isBool,
  safe_mode: isBool,
  hide_watermark: isBool,
  embed_exif_metadata: isBool,
  lora_strength: intIn(0, 100),
  style_preset: isString,
  enable_web_search: isBool,
  enhance_prompt: isBool,
  disable_prompt_optimization_thinking: isBool,
  style_references: (v) => {
    if (!Array.isArray(v)) return `Expected array, received ${typeName(v)}`;
    for (const item of v) {
      if (typeof item !== 'object' || item === null || typeof (item as { image?: unknown }).image !== 'string') {
        return 'Each style reference needs an image string';
      }
      const strength = (item as { strength?: unknown }).strength;
      if (strength !== undefined && (typeof strength !== 'number' || strength < 0.1 || strength > 1)) {
        return 'strength must be between 0.1 and 1';
      }
    }
    return undefined;
  },
  anon_user_id: (v) =>
    typeof v === 'string' && v.length <= 128 && /^[\x20-\x7e]*$/.test(v) && !v.includes('||')
      ? undefined
      : 'anon_user_id must be printable ASCII of at most 128 characters without "||"',
  inpaint: () => undefined,
};

function enumMessage(options: string[], received: unknown): string {
  return `Invalid enum value. Expected ${options.map((o) => `'${o}'`).join(' | ')}, received '${String(received)}'`;
}

/** Pixel sizes for aspect-ratio models: each tier is a pixel area, split by the ratio. */
const TIER_EDGE: Record<string, number> = { '1K': 1024, '2K': 2048, '4K': 4096 };

export function ratioToPixels(aspectRatio: string, resolution: string | undefined): { width: number; height: number } {
  const edge = TIER_EDGE[resolution?.toUpperCase() ?? '1K'] ?? 1024;
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(aspectRatio);
  const ratio = match ? Number(match[1]) / Number(match[2]) : 1;
  const width = Math.round((edge * Math.sqrt(ratio)) / 16) * 16;
  const height = Math.round(edge / Math.sqrt(ratio) / 16) * 16;
  return { width, height };
}

export function validateGenerate(
  body: unknown,
  models: Map<string, CatalogModel>,
): { ok: true; value: ValidatedGenerate } | { ok: false; error: ApiError } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(detailedError([{ code: 'invalid_type', path: [], message: `Expected object, received ${typeName(body)}` }]));
  }
  const input = body as Record<string, unknown>;
  if (input.model === undefined) return fail(standardError(400, MESSAGES.modelRequired));
  if (typeof input.model !== 'string') return fail(standardError(400, MESSAGES.modelNotString));

  const issues: ValidationIssue[] = [];
  const unknownKeys = Object.keys(input).filter((key) => !(key in FIELDS));
  if (unknownKeys.length > 0) {
    issues.push({
      code: 'unrecognized_keys',
      keys: unknownKeys,
      path: [],
      message: `Unrecognized key(s) in object: ${unknownKeys.map((k) => `'${k}'`).join(', ')}`,
    });
  }
  if (input.prompt === undefined) issues.push({ code: 'invalid_type', path: ['prompt'], message: 'Required' });
  for (const [key, value] of Object.entries(input)) {
    const check = FIELDS[key];
    const message = check && value !== undefined ? check(value) : undefined;
    if (message) issues.push({ code: 'invalid_value', path: [key], message });
  }
  if (typeof input.prompt === 'string' && input.prompt.trim() === '') {
    issues.push({ code: 'too_small', path: ['prompt'], message: 'Prompt must not be blank' });
  }
  if (input.inpaint !== undefined && input.inpaint !== null) {
    issues.push({
      code: 'custom',
      path: ['inpaint'],
      message: 'Inpainting is no longer supported on this endpoint. Use /image/edit instead.',
    });
  }
  if (input.return_binary === true && input.variants !== undefined) {
    issues.push({ code: 'custom', path: ['variants'], message: 'variants cannot be used with return_binary: true' });
  }
  if (issues.length > 0) return fail(detailedError(issues));

  const modelId = input.model;
  const model = models.get(modelId);
  if (!model || model.type !== 'image') {
    const replacement = RETIRED_MODELS[modelId];
    const hint = replacement ? ` The model ${modelId} has been retired; use ${replacement} instead.` : '';
    return fail(standardError(404, `Specified model not found.${hint}`));
  }
  const constraints = model.model_spec.constraints;
  const prompt = input.prompt as string;
  const limit = constraints?.promptCharacterLimit ?? 7500;
  if (prompt.length > limit) {
    return fail(detailedError([{ code: 'too_big', path: ['prompt'], message: `Prompt must be at most ${limit} characters for ${modelId}` }]));
  }
  if (REJECTS_PIXEL_SIZE.has(modelId) && (input.width !== undefined || input.height !== undefined)) {
    return fail(standardError(400, `${modelId} does not accept width or height; use aspect_ratio instead`));
  }
  const resolution = tier('resolution', constraints?.resolutions, constraints?.defaultResolution);
  if (resolution.error) return fail(resolution.error);
  const quality = tier('quality', constraints?.qualities, constraints?.defaultQuality);
  if (quality.error) return fail(quality.error);
  if (STEP_MODELS.has(modelId) && isInt(input.steps) && constraints && input.steps > constraints.steps.max) {
    return fail(detailedError([{ code: 'too_big', path: ['steps'], message: `steps must be at most ${constraints.steps.max} for ${modelId}` }]));
  }
  if (typeof input.style_preset === 'string' && !STYLE_PRESETS.includes(input.style_preset)) {
    return fail(standardError(400, `Invalid style_preset '${input.style_preset}'. See GET /image/styles for the valid values.`));
  }
  if (Array.isArray(input.style_references)) {
    const max = constraints?.maxStyleReferences;
    if (max === undefined) return fail(standardError(400, `${modelId} does not support style_references`));
    if (input.style_references.length > max) return fail(standardError(400, `${modelId} accepts at most ${max} style references`));
  }

  const request: GenerateRequest = {
    ...(input as Partial<GenerateRequest>),
    model: modelId,
    prompt,
    width: (input.width as number | undefined) ?? 1024,
    height: (input.height as number | undefined) ?? 1024,
    variants: (input.variants as number | undefined) ?? 1,
    format: (input.format as ImageFormat | undefined) ?? 'webp',
    return_binary: (input.return_binary as boolean | undefined) ?? false,
    safe_mode: (input.safe_mode as boolean | undefined) ?? true,
    hide_watermark: (input.hide_watermark as boolean | undefined) ?? false,
    embed_exif_metadata: (input.embed_exif_metadata as boolean | undefined) ?? false,
    enable_web_search: (input.enable_web_search as boolean | undefined) ?? false,
    enhance_prompt: (input.enhance_prompt as boolean | undefined) ?? false,
    steps: (input.steps as number | undefined) ?? Math.min(constraints?.steps.max ?? 20, 20),
  };
  delete (request as { inpaint?: unknown }).inpaint;

  let pixelWidth = request.width;
  let pixelHeight = request.height;
  const ratios = constraints?.aspectRatios;
  if (ratios) {
    const asked = request.aspect_ratio;
    const fallback = constraints?.defaultAspectRatio ?? '1:1';
    const ratio = asked && ratios.includes(asked) ? asked : fallback;
    ({ width: pixelWidth, height: pixelHeight } = ratioToPixels(ratio === 'auto' ? '1:1' : ratio, resolution.value));
  }
  return { ok: true, value: { request, model, pixelWidth, pixelHeight, resolution: resolution.value, quality: quality.value } };

  /** A tier field (resolution, quality): defaulted and checked where the model lists tiers, dropped where it does not. */
  function tier(field: 'resolution' | 'quality', offered: string[] | undefined, fallback: string | undefined): { value?: string; error?: ApiError } {
    if (!offered) return {};
    const value = (input[field] as string | undefined) ?? fallback;
    if (value !== undefined && !offered.includes(value)) {
      return { error: detailedError([{ code: 'invalid_value', path: [field], message: enumMessage(offered, value) }]) };
    }
    return { value };
  }
}

function fail(error: ApiError): { ok: false; error: ApiError } {
  return { ok: false, error };
}
