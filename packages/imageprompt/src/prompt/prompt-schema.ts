/**
 * The prompt-file schema: Venice's `POST /image/generate` request fields under Venice's own names
 * (reference §2.1), plus the plugin's `$schema` and `alt`. Strict: an unknown field is an error.
 */
import { z } from 'zod';

import { IMAGE_FORMATS, type ImageFormat } from '../images/image-formats.js';
import { pluginFields, text } from './plugin-fields.js';
import { thenField } from '../steps/step-schema.js';

export { pluginFields };

export { IMAGE_FORMATS, type ImageFormat };

const SEED_LIMIT = 999_999_999;

/** Venice's request fields that a prompt file may set. */
export const requestFields = {
  model: z.string().min(1, 'must name a model'),
  prompt: text()
    .min(1, 'must not be empty')
    .refine((s) => s.trim().length > 0, 'must not be blank'),
  negative_prompt: text().max(7500, 'must be at most 7500 characters'),
  width: z.number().int('must be a whole number').gt(0, 'must be greater than 0').lte(1280, 'must be at most 1280'),
  height: z.number().int('must be a whole number').gt(0, 'must be greater than 0').lte(1280, 'must be at most 1280'),
  aspect_ratio: z.string().regex(/^(auto|\d+(\.\d+)?:\d+(\.\d+)?)$/, 'must look like "16:9" (or "auto")'),
  resolution: z.string().min(1),
  quality: z.enum(['low', 'medium', 'high']),
  format: z.enum(IMAGE_FORMATS),
  seed: z
    .number()
    .int('must be a whole number')
    .gte(-SEED_LIMIT, `must be at least -${SEED_LIMIT}`)
    .lte(SEED_LIMIT, `must be at most ${SEED_LIMIT}`),
  variants: z.number().int('must be a whole number').gte(1, 'must be at least 1').lte(4, 'must be at most 4'),
  cfg_scale: z.number().gt(0, 'must be greater than 0').lte(20, 'must be at most 20'),
  steps: z.number().int('must be a whole number').gte(1, 'must be at least 1'),
  style_preset: z.string().min(1),
  safe_mode: z.boolean(),
  hide_watermark: z.boolean(),
  embed_exif_metadata: z.boolean(),
  lora_strength: z.number().int('must be a whole number').gte(0, 'must be at least 0').lte(100, 'must be at most 100'),
  enable_web_search: z.boolean(),
  enhance_prompt: z.boolean(),
  disable_prompt_optimization_thinking: z.boolean(),
  style_references: z
    .array(
      z.strictObject({
        image: z.string().min(1),
        strength: z.number().gte(0.1, 'must be at least 0.1').lte(1, 'must be at most 1').optional(),
      }),
    )
    .min(1),
} as const;

/** Fields that exist in Venice's API but that a prompt file must not set, and why. */
export const REFUSED_FIELDS: Record<string, string> = {
  inpaint: 'Venice disabled "inpaint" on 2025-05-19 and rejects it; use the /image/edit endpoint for edits and remove this field',
  return_binary: 'the plugin chooses how images are transferred; remove "return_binary"',
  anon_user_id: 'the plugin does not send per-user ids; remove "anon_user_id"',
};

const requestShape = z.object(requestFields).partial();

export const promptFileSchema = z.strictObject({
  ...requestShape.shape,
  model: requestFields.model.optional(),
  prompt: requestFields.prompt,
  $schema: pluginFields.$schema.optional(),
  alt: pluginFields.alt.optional(),
  responsive: pluginFields.responsive.optional(),
  /** Steps on the generated image: background removal, upscaling, edits (see steps/). */
  then: thenField.optional(),
});

export type PromptFile = z.infer<typeof promptFileSchema>;

/** Project-wide defaults from plugin options: any request field except the prompt itself. */
export const defaultsSchema = z.strictObject(requestShape.omit({ prompt: true }).shape);
export type PromptDefaults = z.infer<typeof defaultsSchema>;

/** Every field name a prompt file may hold, for did-you-mean suggestions. */
export const KNOWN_FIELDS: readonly string[] = [...Object.keys(requestFields), ...Object.keys(pluginFields), 'then'];
