/**
 * Prompt files for the OpenAI-compatible route, `POST /images/generations`, as OpenAI SDK users
 * know it: `"api": "openai"`, then `model`, `prompt`, `size`, `n`, `output_format`, `moderation`,
 * `quality`, `background`, `style`, `user` under Venice's rules for that route (one image a call,
 * `size` from a fixed list, no `safe_mode`). Venice is the default provider; a named provider from
 * `imageprompt.config.json` sends the same request to another OpenAI-compatible API.
 *
 * The request sent is the key's request; the route and the provider are part of the key, so the
 * same words on two routes or two providers are two entries. A native-shaped view of the request
 * (model, pixel size, format) serves placeholders, sizes and prices.
 */
import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { ImagePromptError } from '../errors/errors.js';
import { ModelCatalog } from '../catalog/model-catalog.js';
import { OPENAI_ROUTE, OPENAI_SIZES, type NormalisedRequest, type OpenAIRequest, type OpenAISend, type PreparedRequest } from './request-types.js';

export { OPENAI_ROUTE, OPENAI_SIZES, type OpenAIRequest, type OpenAISend } from './request-types.js';
import { pluginFields, type PromptDefaults } from './prompt-schema.js';
import { thenField } from '../steps/step-schema.js';
import { responsiveSpec } from './request-types.js';
import { canonicalJson, KEY_RECIPE_VERSION, sha256Hex } from './request-key.js';

/** Venice's default image model, which this route uses for a model it does not know. */
export const VENICE_FALLBACK_MODEL = 'z-image-turbo';

export const openaiFields = {
  api: z.literal('openai'),
  provider: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'must be a provider name from imageprompt.config.json (lower case, digits and dashes)')
    .optional(),
  model: z.string().min(1, 'must name a model').optional(),
  prompt: pluginFields.alt.min(1, 'must not be empty').max(1500, 'must be at most 1500 characters (the limit on this route)'),
  size: z.enum(OPENAI_SIZES).optional(),
  n: z.literal(1, 'must be 1: this route makes one image a call (the native route has "variants")').optional(),
  output_format: z.enum(['jpeg', 'png', 'webp']).optional(),
  moderation: z.enum(['low', 'auto']).optional(),
  quality: z.enum(['auto', 'high', 'medium', 'low', 'hd', 'standard']).optional(),
  background: z.enum(['transparent', 'opaque', 'auto']).optional(),
  style: z.enum(['vivid', 'natural']).optional(),
  user: z.string().min(1).optional(),
  $schema: pluginFields.$schema.optional(),
  alt: pluginFields.alt.optional(),
  responsive: pluginFields.responsive.optional(),
  /** Steps on the image (sent to Venice's routes for them, whatever the provider): see steps/. */
  then: thenField.optional(),
} as const;

export const openaiPromptSchema = z.strictObject(openaiFields);
export type OpenAIPromptFile = z.infer<typeof openaiPromptSchema>;
export const OPENAI_KNOWN_FIELDS: readonly string[] = Object.keys(openaiFields);

/** Fields of the native route that this one refuses, and what to write instead. */
export const OPENAI_REFUSED: Record<string, string> = {
  safe_mode: 'this route has no "safe_mode" (Venice answers 400); use "moderation": "low" to turn Safe Venice off, or "auto" to keep it',
  response_format: 'the plugin always asks for "b64_json"; remove "response_format"',
  variants: 'this route makes one image a call; use the native route (no "api") for "variants"',
  format: 'this route calls it "output_format"',
  width: 'this route is sized by "size", one of ' + OPENAI_SIZES.join(', '),
  height: 'this route is sized by "size", one of ' + OPENAI_SIZES.join(', '),
};

/** The key of a request on this route: the provider and the route are part of it. */
export function openaiKey(provider: string, request: OpenAIRequest): string {
  return sha256Hex(canonicalJson({ recipe: KEY_RECIPE_VERSION, provider, route: OPENAI_ROUTE, request }));
}

/**
 * From an `"api": "openai"` prompt file to the request sent, its key, and a native-shaped view.
 * Project defaults lend only `model`: the others are native fields.
 */
export function prepareOpenAIRequest(
  file: OpenAIPromptFile,
  defaults: PromptDefaults,
  catalog: ModelCatalog,
  fileName: string,
  providers: readonly string[],
): PreparedRequest & { send: OpenAISend } {
  const { $schema: _schema, alt, responsive, api: _api, provider = 'venice', then: _then, ...fields } = file;
  if (provider !== 'venice' && !providers.includes(provider)) {
    const suggestion = didYouMean(provider, providers);
    throw new ImagePromptError({
      code: 'INVALID_PROMPT_FILE',
      file: fileName,
      field: 'provider',
      message: `"${provider}" is not a provider in imageprompt.config.json`,
      hint: suggestion ? `did you mean "${suggestion}"?` : providers.length ? `use one of venice, ${providers.join(', ')}` : 'add it under "providers" in imageprompt.config.json: { "baseURL": …, "apiKeyEnv": … }',
    });
  }
  const model = fields.model ?? defaults.model;
  if (!model) {
    throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: fileName, field: 'model', message: 'is required', hint: 'add "model" (Venice answers 400 without one on this route)' });
  }
  const body: OpenAIRequest = {
    model,
    prompt: fields.prompt,
    size: fields.size ?? 'auto',
    n: 1,
    output_format: fields.output_format ?? 'png',
    moderation: fields.moderation ?? 'auto',
    quality: fields.quality ?? 'auto',
    background: fields.background ?? 'auto',
    style: fields.style ?? 'natural',
    ...(fields.user ? { user: fields.user } : {}),
  };
  const warnings: string[] = [];
  let served = model;
  if (provider === 'venice' && !catalog.get(model)) {
    served = VENICE_FALLBACK_MODEL;
    const suggestion = didYouMean(model, catalog.ids());
    warnings.push(
      `Venice does not know the model "${model}"; on this route it quietly uses its default (${VENICE_FALLBACK_MODEL}) instead, and charges for that${suggestion ? `: did you mean "${suggestion}"?` : ''}`,
    );
  }
  const view = nativeView(body, served, provider === 'venice' ? catalog : undefined);
  return { request: view, key: openaiKey(provider, body), seedSource: 'derived', alt, responsive: responsiveSpec(responsive), warnings, send: { route: OPENAI_ROUTE, provider, body } };
}

/** The request as the native route would describe it: for placeholders, expected sizes and prices. */
function nativeView(body: OpenAIRequest, model: string, catalog: ModelCatalog | undefined): NormalisedRequest {
  const [width, height] = body.size === 'auto' ? [1024, 1024] : body.size.split('x').map(Number);
  const entry = catalog?.get(model);
  const view: NormalisedRequest = {
    model,
    prompt: body.prompt,
    format: body.output_format,
    variants: 1,
    seed: 0,
    safe_mode: body.moderation !== 'low',
    hide_watermark: true,
    embed_exif_metadata: false,
    enable_web_search: false,
    enhance_prompt: false,
  };
  if (entry && !ModelCatalog.isPixelModel(entry)) {
    // aspect-ratio models take their default ratio and tier on this route, whatever the size
    const c = entry.constraints;
    view.aspect_ratio = c.defaultAspectRatio === 'auto' || !c.defaultAspectRatio ? '1:1' : c.defaultAspectRatio;
    if (c.defaultResolution) view.resolution = c.defaultResolution;
    if (c.defaultQuality) view.quality = c.defaultQuality;
  } else {
    view.width = width;
    view.height = height;
  }
  return view;
}
