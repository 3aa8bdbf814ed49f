/**
 * From a prompt file to the exact request Venice receives: project defaults under the file's own
 * fields, model-aware checks from the catalog, Venice's defaults made explicit, and a seed.
 */
import { ImagePromptError } from '../errors/errors.js';
import { didYouMean } from './did-you-mean.js';
import { ModelCatalog } from '../catalog/model-catalog.js';
import type { PromptDefaults, PromptFile } from './prompt-schema.js';
import { deriveSeed, requestKey } from './request-key.js';
import { responsiveSpec, type NormalisedRequest, type PreparedRequest } from './request-types.js';

export type { NormalisedRequest, PreparedRequest } from './request-types.js';

const VENICE_DEFAULTS = {
  format: 'webp',
  variants: 1,
  safe_mode: true,
  hide_watermark: false,
  embed_exif_metadata: false,
  enable_web_search: false,
  enhance_prompt: false,
} as const;

export function prepareRequest(
  file: PromptFile,
  defaults: PromptDefaults,
  catalog: ModelCatalog,
  fileName: string,
): PreparedRequest {
  const { $schema: _schema, alt, responsive, then: _then, ...fields } = file;
  const merged = { ...VENICE_DEFAULTS, ...defaults, ...fields };
  const fail = (field: string, message: string, hint: string) =>
    new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: fileName, field, message, hint });

  if (!merged.model) {
    throw fail('model', 'is required', 'add "model" (for example "z-image-turbo") or set defaults.model in the plugin options');
  }
  const model = catalog.get(merged.model);
  if (!model) {
    const suggestion = didYouMean(merged.model, catalog.ids());
    throw new ImagePromptError({
      code: 'UNKNOWN_MODEL',
      file: fileName,
      field: 'model',
      message: `"${merged.model}" is not an image model in Venice's catalog (${catalog.source})`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `use one of ${catalog.ids().join(', ')}`,
    });
  }

  const warnings: string[] = [];
  // Defaults that go into the key come from the bundled snapshot where it knows the model, so a build
  // with the live catalog and one without compute the same key; the live catalog only adds checks.
  const c = model.constraints;
  const d = ModelCatalog.bundled().get(model.id)?.constraints ?? c;
  if (merged.prompt.length > c.promptCharacterLimit) {
    throw fail('prompt', `is ${merged.prompt.length} characters; ${model.id} accepts at most ${c.promptCharacterLimit}`, 'shorten the prompt or choose a model with a longer limit');
  }
  const hasPixelSize = merged.width !== undefined || merged.height !== undefined;
  if (ModelCatalog.isPixelModel(model)) {
    merged.width ??= 1024;
    merged.height ??= 1024;
    if (merged.aspect_ratio !== undefined) warnings.push(`${model.id} is sized by width/height and ignores "aspect_ratio"`);
  } else {
    if (hasPixelSize && ModelCatalog.rejectsPixelSize(model)) {
      throw fail(merged.width !== undefined ? 'width' : 'height', `is not accepted by ${model.id}, which is sized by aspect ratio`, `remove width/height and set "aspect_ratio" to one of ${c.aspectRatios!.join(', ')}`);
    }
    if (hasPixelSize) warnings.push(`${model.id} is sized by aspect ratio and ignores width/height; set "aspect_ratio" instead`);
    if (merged.aspect_ratio !== undefined && !c.aspectRatios!.includes(merged.aspect_ratio)) {
      throw fail('aspect_ratio', `"${merged.aspect_ratio}" is not offered by ${model.id}`, `use one of ${c.aspectRatios!.join(', ')}`);
    }
    merged.aspect_ratio ??= d.defaultAspectRatio ?? c.defaultAspectRatio;
  }
  if (c.resolutions) {
    if (merged.resolution !== undefined && !c.resolutions.includes(merged.resolution)) {
      throw fail('resolution', `"${merged.resolution}" is not offered by ${model.id}`, `use one of ${c.resolutions.join(', ')}`);
    }
    merged.resolution ??= d.defaultResolution ?? c.defaultResolution;
  } else if (merged.resolution !== undefined) {
    warnings.push(`${model.id} has no resolution tiers and ignores "resolution"`);
  }
  if (c.qualities) {
    if (merged.quality !== undefined && !c.qualities.includes(merged.quality)) {
      throw fail('quality', `"${merged.quality}" is not offered by ${model.id}`, `use one of ${c.qualities.join(', ')}`);
    }
    merged.quality ??= (d.defaultQuality ?? c.defaultQuality) as typeof merged.quality;
  } else if (merged.quality !== undefined) {
    warnings.push(`${model.id} has no quality tiers and ignores "quality"`);
  }
  if (ModelCatalog.usesSteps(model)) {
    if (merged.steps !== undefined && merged.steps > c.steps.max) {
      throw fail('steps', `is ${merged.steps}; ${model.id} allows at most ${c.steps.max}`, `use a value from 1 to ${c.steps.max}`);
    }
    merged.steps ??= d.steps.default;
  }

  if (merged.style_preset !== undefined && !catalog.styles.includes(merged.style_preset)) {
    const suggestion = didYouMean(merged.style_preset, catalog.styles);
    throw fail('style_preset', `"${merged.style_preset}" is not one of Venice's styles (${catalog.source})`, suggestion ? `did you mean "${suggestion}"? Names are case-sensitive; \`imageprompt styles\` lists them` : 'run `imageprompt styles` to list them; names are case-sensitive');
  }
  if (merged.negative_prompt !== undefined && !ModelCatalog.honoursNegativePrompt(model)) {
    warnings.push(`${model.id} ignores "negative_prompt"; describe what you want in "prompt" instead`);
  }
  if (fields.seed !== undefined && ModelCatalog.ignoresSeed(model)) {
    warnings.push(`${model.id} ignores "seed": its images cannot be reproduced from a seed, which makes the cached bytes the only record`);
  }
  if (merged.enable_web_search && !model.supportsWebSearch) warnings.push(`${model.id} cannot search the web and ignores "enable_web_search"`);
  if (merged.steps !== undefined && !ModelCatalog.usesSteps(model)) warnings.push(`${model.id} ignores "steps"`);

  const { seed: givenSeed, ...withoutSeed } = merged;
  const seed = givenSeed ?? deriveSeed(withoutSeed);
  const request = { ...withoutSeed, seed } as NormalisedRequest;
  return { request, key: requestKey(request), seedSource: givenSeed === undefined ? 'derived' : 'file', alt, responsive: responsiveSpec(responsive), warnings };
}
