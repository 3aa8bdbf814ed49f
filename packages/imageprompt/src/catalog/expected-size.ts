/**
 * The pixel size Venice is expected to return for a request, known before any call: width × height
 * for pixel models; for aspect-ratio models the ratio spread over the resolution tier's area
 * (1K ≈ 1024², 2K ≈ 2048², 4K ≈ 4096²), sides rounded to 16. Used for placeholders, which must
 * take the space the real image will.
 */
import type { NormalisedRequest } from '../prompt/normalise-request.js';

const TIER_EDGE: Record<string, number> = { '1K': 1024, '2K': 2048, '4K': 4096 };

export function expectedSize(request: NormalisedRequest): { width: number; height: number } {
  if (request.aspect_ratio === undefined) return { width: request.width ?? 1024, height: request.height ?? 1024 };
  const edge = TIER_EDGE[request.resolution?.toUpperCase() ?? '1K'] ?? 1024;
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(request.aspect_ratio);
  const ratio = match ? Number(match[1]) / Number(match[2]) : 1;
  return {
    width: Math.round((edge * Math.sqrt(ratio)) / 16) * 16,
    height: Math.round(edge / Math.sqrt(ratio) / 16) * 16,
  };
}
