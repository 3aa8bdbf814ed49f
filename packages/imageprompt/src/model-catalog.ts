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

export interface ImageModel {
  id: string;
  name: string;
  constraints: ModelConstraints;
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
    const raw = JSON.parse(readFileSync(new URL('../data/venice-image-models.json', import.meta.url), 'utf8')) as {
      id: string;
      type: string;
      model_spec: { name: string; constraints: ModelConstraints };
    }[];
    return new ModelCatalog(
      raw
        .filter((m) => m.type === 'image' && m.id !== 'bria-bg-remover')
        .map((m) => ({ id: m.id, name: m.model_spec.name, constraints: m.model_spec.constraints })),
    );
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
