/**
 * What one request costs, from the catalog's per-image prices (reference §5.4): a quality price for
 * the tier and quality when the model has one, else the tier's price, else the flat price; times the
 * number of variants, each billed as an image.
 */
import type { ImageModel } from './model-catalog.js';
import type { NormalisedRequest } from '../prompt/normalise-request.js';

export function requestPriceUsd(model: ImageModel, request: NormalisedRequest): number | undefined {
  const { pricing } = model;
  const tier = request.resolution ?? model.constraints.defaultResolution;
  const quality = request.quality ?? model.constraints.defaultQuality;
  const each =
    (tier && quality ? pricing.quality?.[tier]?.[quality]?.usd : undefined) ??
    (tier ? pricing.resolutions?.[tier]?.usd : undefined) ??
    pricing.generation?.usd;
  return each === undefined ? undefined : round(each * request.variants);
}

/** Cents-safe sums: prices have at most a few decimals, floating point adds noise. */
export function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
