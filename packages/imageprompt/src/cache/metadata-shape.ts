/**
 * The exact shapes of what a cache record may hold, as patterns: the manifest schema (zod) and the
 * hit index (which must not load zod) check against the same ones.
 */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A blurred copy as imageprompt writes it: a few hundred bytes; this leaves room and no more. */
export const MAX_BLUR_DATA_URL = 4096;
export const BLUR_DATA_URL = /^data:image\/(webp|png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;
export const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A ThumbHash is at most a few dozen bytes. */
export const MAX_THUMBHASH = 64;
export const HEX_COLOR = /^#[0-9a-f]{6}$/;
