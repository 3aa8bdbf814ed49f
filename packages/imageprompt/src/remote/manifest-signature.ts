/**
 * Manifests uploaded to the shared cache carry an HMAC-SHA256 over their canonical JSON when
 * IMAGEPROMPT_REMOTE_SIGNING_KEY is set; readers holding the key trust no other. Blob digests are
 * checked whatever this says: a signature protects which bytes a request maps to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../prompt/request-key.js';

const SCHEME = 'hmac-sha256:';

export function signManifest(manifest: object, key: Buffer): string {
  return SCHEME + createHmac('sha256', key).update(canonicalJson(manifest)).digest('hex');
}

/** Whether `signature` is this key's signature of `manifest` (the manifest without its signature field). */
export function verifyManifest(manifest: object, signature: unknown, key: Buffer): boolean {
  if (typeof signature !== 'string' || !signature.startsWith(SCHEME)) return false;
  const expected = Buffer.from(signManifest(manifest, key));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
