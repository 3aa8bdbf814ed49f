/**
 * The model catalog the simulator serves, seeded from a snapshot of Venice's
 * `GET /models` (image, inpaint and upscale entries, 2026-08-20).
 */
import { readFileSync } from 'node:fs';

export interface ImageConstraints {
  promptCharacterLimit: number;
  steps: { default: number; max: number };
  widthHeightDivisor: number;
  aspectRatios?: string[];
  defaultAspectRatio?: string;
  resolutions?: string[];
  defaultResolution?: string;
  qualities?: string[];
  defaultQuality?: string;
  maxStyleReferences?: number;
  supportsStyleReferenceStrength?: boolean;
}

export interface Price {
  usd: number;
  diem: number;
}

export interface ImagePricing {
  generation?: Price;
  resolutions?: Record<string, Price>;
  quality?: Record<string, Record<string, Price>>;
  upscale?: Record<string, Price>;
  inpaint?: Price;
}

export interface CatalogModel {
  id: string;
  type: string;
  created: number;
  model_spec: {
    name: string;
    privacy: string;
    pricing: ImagePricing;
    constraints?: ImageConstraints;
    traits: string[];
    [key: string]: unknown;
  };
}

/** Models that only exist upstream of an image provider that honours web search. */
const WEB_SEARCH_MODELS = new Set(['nano-banana-2', 'nano-banana-pro']);

/** Models whose `steps` value is used (and so validated against `steps.max`). */
export const STEP_MODELS = new Set(['venice-sd35', 'wai-Illustrious', 'lustify-sdxl', 'lustify-v7', 'lustify-v8']);

/** Models that reject width/height with a 400 instead of ignoring them. */
export const REJECTS_PIXEL_SIZE = new Set(['qwen-image', 'qwen-image-3', 'qwen-image-3-pro']);

/** Retired ids and what replaced them, answered with a 404 naming the replacement. */
export const RETIRED_MODELS: Record<string, string> = {
  hidream: 'qwen-image-2',
  'flux-dev': 'flux-2-pro',
  'flux-dev-uncensored': 'lustify-v8',
  'fluently-xl': 'z-image-turbo',
  'stable-diffusion-3.5': 'venice-sd35',
  'grok-imagine-image-pro': 'grok-imagine-image-quality',
};

export const DEFAULT_IMAGE_MODEL = 'z-image-turbo';

const snapshotUrl = new URL('../data/image-models.json', import.meta.url);

export function loadCatalog(): CatalogModel[] {
  const raw = JSON.parse(readFileSync(snapshotUrl, 'utf8')) as CatalogModel[];
  return raw.map((model) => ({
    ...model,
    model_spec: {
      offline: false,
      supportsWebSearch: WEB_SEARCH_MODELS.has(model.id),
      supportsOptimizePromptThinking: false,
      supportsStyleReferences: model.model_spec.constraints?.maxStyleReferences !== undefined,
      ...model.model_spec,
    },
  }));
}

/** The price of one image of `model` at the given tier and quality, in USD. */
export function imagePrice(model: CatalogModel, resolution?: string, quality?: string): number {
  const pricing = model.model_spec.pricing;
  if (resolution && quality && pricing.quality?.[resolution]?.[quality]) {
    return pricing.quality[resolution][quality].usd;
  }
  if (resolution && pricing.resolutions?.[resolution]) return pricing.resolutions[resolution].usd;
  return pricing.generation?.usd ?? pricing.inpaint?.usd ?? 0;
}

/** The `/models/traits` map for a type: each trait names the newest model carrying it. */
export function traitMap(models: CatalogModel[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const model of models) {
    for (const trait of model.model_spec.traits ?? []) map[trait] = model.id;
  }
  return map;
}
