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
}

interface ModelsResponseEntry {
  id: string;
  type: string;
  model_spec: { name: string; constraints: ModelConstraints; pricing?: ModelPricing };
}

export const CATALOG_DATE = '2026-08-20';

/** Models that answer 400 to width/height instead of ignoring them (reference §2.1). */
const REJECTS_PIXEL_SIZE = new Set(['qwen-image', 'qwen-image-3', 'qwen-image-3-pro']);
/** Models whose `steps` is used and bounded by `steps.max`; everywhere else it is ignored. */
const USES_STEPS = new Set(['venice-sd35', 'wai-Illustrious', 'lustify-sdxl', 'lustify-v7', 'lustify-v8']);

export class ModelCatalog {
  private readonly models: Map<string, ImageModel>;

  constructor(models: ImageModel[]) {
    this.models = new Map(models.map((m) => [m.id, m]));
  }

  /** The snapshot bundled with this package. */
  static bundled(): ModelCatalog {
    const raw = JSON.parse(readFileSync(new URL('../data/venice-image-models.json', import.meta.url), 'utf8')) as ModelsResponseEntry[];
    return ModelCatalog.fromEntries(raw);
  }

  /** From the `data` of Venice's `GET /models?type=image`. */
  static fromEntries(entries: ModelsResponseEntry[]): ModelCatalog {
    return new ModelCatalog(
      entries
        .filter((m) => m.type === 'image' && m.id !== 'bria-bg-remover' && m.model_spec?.constraints)
        .map((m) => ({ id: m.id, name: m.model_spec.name, constraints: m.model_spec.constraints, pricing: m.model_spec.pricing ?? {} })),
    );
  }

  /** Venice's live catalog (a public route), or undefined when it cannot be had. */
  static async fetch(baseURL: string, timeoutMs = 15_000): Promise<ModelCatalog | undefined> {
    try {
      const response = await fetch(`${baseURL.replace(/\/+$/, '')}/models?type=image`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { data?: ModelsResponseEntry[] };
      return Array.isArray(body.data) ? ModelCatalog.fromEntries(body.data) : undefined;
    } catch {
      return undefined;
    }
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
}
