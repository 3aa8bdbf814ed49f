/**
 * What the engine knows about Venice's image models: the sizing idiom, defaults and limits of each,
 * from the catalog snapshot shipped in `data/` (Venice's `GET /models?type=image`).
 */
import { readFileSync } from 'node:fs';

export interface ModelConstraints {
  promptCharacterLimit: number;
  steps: { default: number; max: number };
  widthHeightDivisor: number;
  aspectRatios?: string[];
  defaultAspectRatio?: string;
  resolutions?: string[];
  defaultResolution?: string;
  qualities?: string[];
  defaultQuality?: string;
}

export interface Price {
  usd: number;
  diem?: number;
}

/** Per-image prices (reference §5.4): flat, per resolution tier, or per tier × quality. */
export interface ModelPricing {
  generation?: Price;
  resolutions?: Record<string, Price>;
  quality?: Record<string, Record<string, Price>>;
}

export interface ImageModel {
  id: string;
  name: string;
  constraints: ModelConstraints;
  pricing: ModelPricing;
  supportsWebSearch: boolean;
}

export interface ModelsResponseEntry {
  id: string;
  type: string;
  model_spec: { name: string; constraints: ModelConstraints; pricing?: ModelPricing & EditPricing & { upscale?: Record<string, Price> }; supportsWebSearch?: boolean };
}

/** An edit model's limits (`type: "inpaint"`, reference §6): what `/image/edit` and `/image/multi-edit` accept. */
export interface EditConstraints {
  aspectRatios?: string[];
  promptCharacterLimit?: number;
  combineImages?: boolean;
  maxInputImages?: number;
  defaultResolution?: string;
  resolutions?: string[];
  defaultQuality?: string;
  qualities?: string[];
}

/** An edit model's prices: per edit, by tier and quality where listed, plus input images beyond those included. */
export interface EditPricing {
  inpaint?: Price;
  resolutions?: Record<string, Price>;
  quality?: Record<string, Record<string, Price>>;
  inputImages?: { included?: number; additional?: Price };
}

export interface EditModel {
  id: string;
  name: string;
  constraints: EditConstraints;
  pricing: EditPricing;
}

/** Prices of the routes that take an image, from the catalog (reference §5.4, §6). */
export interface ToolPrices {
  /** `/image/upscale` by scale (`upscale` of the `upscaler` entry, which every image model repeats). */
  upscale: { '2x'?: number; '4x'?: number };
  /** `/image/background-remove`: the `bria-bg-remover` entry's price. */
  backgroundRemoval: number | undefined;
}

const BUNDLED_STYLES = new URL('../../data/venice-image-styles.json', import.meta.url);

import { CATALOG_DATE } from './catalog-date.js';

export { CATALOG_DATE };

/** Models that answer 400 to width/height instead of ignoring them (reference §2.1). */
const REJECTS_PIXEL_SIZE = new Set(['qwen-image', 'qwen-image-3', 'qwen-image-3-pro']);
/** Models whose `steps` is used and bounded by `steps.max`; everywhere else it is ignored. */
const USES_STEPS = new Set(['venice-sd35', 'wai-Illustrious', 'lustify-sdxl', 'lustify-v7', 'lustify-v8']);
/** Models that honour `negative_prompt` (reference §2.1); the others drop it silently. */
const HONOURS_NEGATIVE_PROMPT = /^(venice-sd35|lustify-|wai-Illustrious|qwen-image-2|qwen-image-3|wan-2-7-)/;
/** Model families that ignore `seed` (reference §2.1). */
const IGNORES_SEED = /^(gpt-image-|luma-|recraft-|imagineart-|seedream-v5-pro|nano-banana-pro|grok-imagine-)/;
/** Models that can search the web (`supportsWebSearch` in the live catalog; these two in the snapshot). */
const WEB_SEARCH = new Set(['nano-banana-2', 'nano-banana-pro']);

export class ModelCatalog {
  private readonly models: Map<string, ImageModel>;

  /** Edit models (`type: "inpaint"`), by id. */
  readonly editModels: ReadonlyMap<string, EditModel>;

  constructor(
    models: ImageModel[],
    /** Valid `style_preset` values (case-sensitive). */
    readonly styles: readonly string[],
    /** Where this catalog came from, for messages. */
    readonly source: string,
    editModels: EditModel[] = [],
    /** Prices of upscaling and background removal. */
    readonly tools: ToolPrices = { upscale: {}, backgroundRemoval: undefined },
  ) {
    this.models = new Map(models.map((m) => [m.id, m]));
    this.editModels = new Map(editModels.map((m) => [m.id, m]));
  }

  private static snapshot: ModelCatalog | undefined;

  /** The snapshot bundled with this package (read once). */
  static bundled(): ModelCatalog {
    ModelCatalog.snapshot ??= ModelCatalog.readSnapshot();
    return ModelCatalog.snapshot;
  }

  private static readSnapshot(): ModelCatalog {
    const raw = JSON.parse(readFileSync(new URL('../../data/venice-image-models.json', import.meta.url), 'utf8')) as ModelsResponseEntry[];
    const styles = JSON.parse(readFileSync(BUNDLED_STYLES, 'utf8')) as string[];
    return ModelCatalog.fromEntries(raw, styles, `the bundled catalog of ${CATALOG_DATE}`);
  }

  /** From the `data` of Venice's `GET /models?type=image` and `GET /image/styles`. */
  /** `fallback`: where edit models come from when the entries hold none (a route's answer that failed). */
  static fromEntries(entries: ModelsResponseEntry[], styles: readonly string[], source: string, fallback?: ModelCatalog): ModelCatalog {
    const edits = entries
      .filter((m) => m.type === 'inpaint' && m.model_spec?.constraints)
      .map((m) => ({ id: m.id, name: m.model_spec.name, constraints: m.model_spec.constraints as EditConstraints, pricing: (m.model_spec.pricing ?? {}) as EditPricing }));
    return new ModelCatalog(
      entries
        .filter((m) => m.type === 'image' && m.id !== 'bria-bg-remover' && m.model_spec?.constraints)
        .map((m) => ({
          id: m.id,
          name: m.model_spec.name,
          constraints: m.model_spec.constraints,
          pricing: m.model_spec.pricing ?? {},
          supportsWebSearch: m.model_spec.supportsWebSearch ?? WEB_SEARCH.has(m.id),
        })),
      styles,
      source,
      edits.length > 0 || !fallback ? edits : [...fallback.editModels.values()],
      // every image model repeats the upscale prices, and background removal is an image model
      toolPrices(entries),
    );
  }

  /** The edit model with this id, if the catalog lists one. */
  editModel(id: string): EditModel | undefined {
    return this.editModels.get(id);
  }

  list(): ImageModel[] {
    return [...this.models.values()];
  }

  get(id: string): ImageModel | undefined {
    return this.models.get(id);
  }

  ids(): string[] {
    return [...this.models.keys()];
  }

  /** Pixel models take width/height; the others take aspect_ratio (and resolution, quality). */
  static isPixelModel(model: ImageModel): boolean {
    return model.constraints.aspectRatios === undefined;
  }

  static rejectsPixelSize(model: ImageModel): boolean {
    return REJECTS_PIXEL_SIZE.has(model.id);
  }

  static usesSteps(model: ImageModel): boolean {
    return USES_STEPS.has(model.id);
  }

  static honoursNegativePrompt(model: ImageModel): boolean {
    return HONOURS_NEGATIVE_PROMPT.test(model.id);
  }

  static ignoresSeed(model: ImageModel): boolean {
    return IGNORES_SEED.test(model.id);
  }
}

/** Upscale prices from the `upscaler` entry (else any entry listing them), background removal from `bria-bg-remover`. */
function toolPrices(entries: ModelsResponseEntry[]): ToolPrices {
  const upscaling = entries.find((m) => m.id === 'upscaler')?.model_spec.pricing?.upscale ?? entries.find((m) => m.model_spec?.pricing?.upscale)?.model_spec.pricing?.upscale;
  const remover = entries.find((m) => m.id === 'bria-bg-remover')?.model_spec.pricing?.generation?.usd;
  return { upscale: { '2x': upscaling?.['2x']?.usd, '4x': upscaling?.['4x']?.usd }, backgroundRemoval: remover };
}
