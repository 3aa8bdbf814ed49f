/**
 * Prompt files for Venice's routes that take an image (reference §6): a chain of steps after a
 * generation (`"then": [...]`), and files that start from images committed in the project
 * (`"api": "edit" | "upscale" | "remove_background" | "multi_edit"`). Field names are Venice's,
 * except `format` for the output format (Venice's `output_format` on the edit routes): the same word
 * as on a generation, so a chain says its output format one way. Strict: an unknown field is an error.
 */
import { z } from 'zod';
import { IMAGE_FORMATS } from '../images/image-formats.js';
import { pluginFields, text } from '../prompt/plugin-fields.js';

/** Steps a chain may hold: more is a mistake (each one is paid). */
export const MAX_STEPS = 8;
/** Venice's most input images for `/image/multi-edit` (a model's `maxInputImages`, up to 6 in 2026). */
export const MAX_MULTI_EDIT_IMAGES = 6;

/** A committed image, relative to the prompt file (checked against the project root when read). */
const imagePath = z
  .string()
  .min(1, 'must name an image file')
  .max(1024, 'must be a path of at most 1024 characters')
  .refine((p) => !/^[a-z][a-z0-9+.-]*:/i.test(p) || /^[a-z]:[\\/]/i.test(p), 'must be a path of a file in the project, not a URL');

export const upscaleFields = {
  scale: z.union([z.literal(2), z.literal(4)], { error: 'must be 2 or 4' }).optional(),
  creativity: z.number().gte(0, 'must be at least 0').lte(0.02, 'must be at most 0.02 (Venice clamps it to 0–0.02)').optional(),
  format: z.enum(IMAGE_FORMATS).optional(),
} as const;

export const backgroundFields = {
  format: z.enum(IMAGE_FORMATS).optional(),
} as const;

export const editFields = {
  prompt: text()
    .min(1, 'must not be empty')
    .max(32_768, 'must be at most 32768 characters')
    .refine((s) => s.trim().length > 0, 'must not be blank'),
  model: z.string().min(1, 'must name an edit model').optional(),
  aspect_ratio: z.string().regex(/^(auto|\d+:\d+)$/, 'must look like "16:9" (or "auto")').optional(),
  resolution: z.string().min(1).optional(),
  quality: z.enum(['low', 'medium', 'high']).optional(),
  format: z.enum(IMAGE_FORMATS).optional(),
  safe_mode: z.boolean().optional(),
  enhance_prompt: z.boolean().optional(),
  disable_prompt_optimization_thinking: z.boolean().optional(),
} as const;

/** `"remove_background": true` is the step with no fields. */
const orNothing = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === true ? {} : value), schema);

/** One step of `then`: an object with exactly one of `upscale`, `remove_background`, `edit`. */
export const thenStepSchema = z
  .strictObject({
    upscale: orNothing(z.strictObject(upscaleFields)).optional(),
    remove_background: orNothing(z.strictObject(backgroundFields)).optional(),
    edit: z.strictObject(editFields).optional(),
    /** The chain's image first, then the committed images listed (paths relative to the prompt file). */
    multi_edit: z
      .strictObject({ images: z.array(imagePath).min(1, 'must list at least one more image').max(MAX_MULTI_EDIT_IMAGES - 1, `must list at most ${MAX_MULTI_EDIT_IMAGES - 1} more images (the chain's image is the first)`), ...editFields })
      .optional(),
  })
  .refine((step) => Object.keys(step).length === 1, {
    error: 'must hold exactly one of "upscale", "remove_background", "edit", "multi_edit" (one step per object; list more steps in order)',
    // a misspelt step is said once, as an unknown field with its suggestion
    when: (payload) => (payload.issues ?? []).length === 0,
  });
export type ThenStep = z.infer<typeof thenStepSchema>;

export const thenField = z.array(thenStepSchema).min(1, 'must list at least one step').max(MAX_STEPS, `must list at most ${MAX_STEPS} steps`);

const fileFields = {
  $schema: pluginFields.$schema.optional(),
  alt: pluginFields.alt.optional(),
  responsive: pluginFields.responsive.optional(),
  then: thenField.optional(),
} as const;

export const sourceFileSchemas = {
  upscale: z.strictObject({ api: z.literal('upscale'), image: imagePath, ...upscaleFields, ...fileFields }),
  remove_background: z.strictObject({ api: z.literal('remove_background'), image: imagePath, ...backgroundFields, ...fileFields }),
  edit: z.strictObject({ api: z.literal('edit'), image: imagePath, ...editFields, ...fileFields }),
  multi_edit: z.strictObject({
    api: z.literal('multi_edit'),
    images: z.array(imagePath).min(1, 'must list at least one image').max(MAX_MULTI_EDIT_IMAGES, `must list at most ${MAX_MULTI_EDIT_IMAGES} images`),
    ...editFields,
    ...fileFields,
  }),
} as const;

export type SourceApi = keyof typeof sourceFileSchemas;
export const SOURCE_APIS = Object.keys(sourceFileSchemas) as SourceApi[];
export type SourcePromptFile = { [A in SourceApi]: z.infer<(typeof sourceFileSchemas)[A]> }[SourceApi];

/** Field names of each `api` file, for did-you-mean. */
export function sourceFileFields(api: SourceApi): string[] {
  return Object.keys(sourceFileSchemas[api].shape);
}

/** The fields of a step kind in `then` (or, without one, the step kinds). */
export function stepFieldNames(kind: string | undefined): string[] {
  if (kind === 'upscale') return Object.keys(upscaleFields);
  if (kind === 'remove_background') return Object.keys(backgroundFields);
  if (kind === 'edit') return Object.keys(editFields);
  if (kind === 'multi_edit') return ['images', ...Object.keys(editFields)];
  return ['upscale', 'remove_background', 'edit', 'multi_edit'];
}

/** What to say of fields people reach for under another name. */
export const STEP_REFUSED: Record<string, string> = {
  output_format: 'prompt files call it "format", as a generation does; it is sent to Venice as output_format',
  modelId: 'prompt files call it "model"; it is sent as modelId where Venice wants that name',
  image_url: 'name a committed file in "image"; imageprompt sends its bytes, so the key covers exactly them',
  enhance: 'Venice removed "enhance" from /image/upscale in 2026; use "creativity" (0–0.02)',
  enhanceCreativity: 'Venice removed "enhanceCreativity"; use "creativity" (0–0.02)',
  enhancePrompt: 'Venice removed "enhancePrompt" from /image/upscale',
  replication: 'Venice removed "replication" from /image/upscale',
};
