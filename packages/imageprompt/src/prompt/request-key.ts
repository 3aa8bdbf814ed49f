/**
 * The request key: what identifies one paid image request, and so one cache entry.
 *
 * Recipe (version 1):
 *   key = sha256( canonical-json( { recipe: 1, provider: "venice", request } ) )
 * where `request` is the normalised request (see `normalise-request.ts`): project defaults and
 * Venice's defaults filled in, the seed fixed, plugin-only fields (`$schema`, `alt`) and the
 * transport field `return_binary` left out. Canonical JSON sorts object keys at every depth and has
 * no whitespace, so key order and formatting in a prompt file never change the key; any value that
 * can change the image does.
 */
import { createHash } from 'node:crypto';

export const KEY_RECIPE_VERSION = 1;
export const PROVIDER = 'venice';

/** JSON with object keys sorted at every depth and no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('cannot encode a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function requestKey(request: object): string {
  return sha256Hex(canonicalJson({ recipe: KEY_RECIPE_VERSION, provider: PROVIDER, request }));
}

/**
 * A seed derived from the request without its seed, so that a clean machine sends Venice the same
 * request: 1 … 999 999 999.
 */
export function deriveSeed(requestWithoutSeed: object): number {
  const digest = createHash('sha256').update(canonicalJson({ seedOf: requestWithoutSeed })).digest();
  return (digest.readUInt32BE(0) % 999_999_999) + 1;
}
