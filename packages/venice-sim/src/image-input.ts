/**
 * The body of Venice's routes that take images (`/image/upscale`, `/image/background-remove`,
 * `/image/edit`, `/image/multi-edit`, reference §6): JSON, with each image as base64 (a data URL
 * too) or an http(s) URL where the route allows one, or multipart/form-data with images as file parts.
 * Each image is decoded and measured (sharp) before a route sees it; anything else is refused as
 * Venice refuses it: 415 for another content type, 400 for a body or an image it cannot read.
 */
import type { IncomingMessage } from 'node:http';
import sharp from 'sharp';
import { standardError, type ApiError } from './api-errors.js';

/** Venice takes files under 25 MB. */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;

export interface InputImage {
  bytes: Buffer;
  width: number;
  height: number;
  format: string;
}

export interface ImageRequest {
  /** Every non-image field: JSON values as sent, multipart values as strings. */
  fields: Record<string, unknown>;
  /** How the body came: multipart fields are strings, to be read as numbers or booleans by the route. */
  multipart: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** The fields of a JSON or multipart body; image fields stay as sent (strings, or Files). */
export async function readImageRequest(req: IncomingMessage, raw: Buffer): Promise<Parsed<ImageRequest>> {
  const type = String(req.headers['content-type'] ?? '');
  if (/^application\/json\b/i.test(type)) {
    try {
      const value = JSON.parse(raw.toString('utf8')) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: standardError(400, 'Invalid request parameters') };
      return { ok: true, value: { fields: value as Record<string, unknown>, multipart: false } };
    } catch {
      return { ok: false, error: standardError(400, 'Invalid JSON request', false) };
    }
  }
  if (/^multipart\/form-data\b/i.test(type)) {
    let form: FormData;
    try {
      form = await new Request('http://sim.invalid/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
    } catch {
      return { ok: false, error: standardError(400, 'Invalid multipart body') };
    }
    const fields: Record<string, unknown> = {};
    for (const [name, value] of form.entries()) {
      const previous = fields[name];
      fields[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    return { ok: true, value: { fields, multipart: true } };
  }
  return { ok: false, error: standardError(415, 'Invalid request content-type', false) };
}

/**
 * One image field's value decoded: base64 or a data URL, a multipart file, or (where `urls` allows)
 * an http(s) URL fetched within five seconds.
 */
export async function decodeImage(value: unknown, field: string, urls: boolean): Promise<Parsed<InputImage>> {
  let bytes: Buffer;
  if (value instanceof Blob) bytes = Buffer.from(await value.arrayBuffer());
  else if (typeof value === 'string' && /^https?:\/\//i.test(value)) {
    if (!urls) return { ok: false, error: standardError(400, `${field} must be a base64-encoded image or a file`) };
    try {
      const response = await fetch(value, { signal: AbortSignal.timeout(5000), redirect: 'error' });
      if (!response.ok) throw new Error(String(response.status));
      bytes = Buffer.from(await response.arrayBuffer());
    } catch {
      return { ok: false, error: standardError(400, `Could not fetch the image at ${field}`) };
    }
  } else if (typeof value === 'string') {
    const base64 = value.replace(/^data:[^,]*;base64,/, '');
    if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(base64)) return { ok: false, error: standardError(400, `${field} is not valid base64`) };
    bytes = Buffer.from(base64, 'base64');
  } else return { ok: false, error: standardError(400, `${field} is required`) };
  if (bytes.length >= MAX_IMAGE_BYTES) return { ok: false, error: standardError(400, `${field} must be smaller than 25 MB`) };
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height || !meta.format) throw new Error('no size');
    return { ok: true, value: { bytes, width: meta.width, height: meta.height, format: meta.format } };
  } catch {
    return { ok: false, error: standardError(400, `${field} could not be decoded as an image`) };
  }
}

/** Fields the route does not know, as Venice names them (zod's strict objects). */
export function unknownFields(fields: Record<string, unknown>, known: readonly string[]): ApiError | undefined {
  const unknown = Object.keys(fields).filter((k) => !known.includes(k));
  if (unknown.length === 0) return undefined;
  const message = `Unrecognized key(s) in object: ${unknown.map((k) => `'${k}'`).join(', ')}`;
  return { status: 400, body: { error: 'Invalid request parameters', details: { _errors: [message] }, issues: [{ code: 'unrecognized_keys', keys: unknown, path: [], message }] }, countsTowardBudget: true };
}

/** A number field: JSON numbers, or multipart text that is one. */
export function numberField(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A boolean field: JSON booleans, or multipart `true` / `false`. */
export function booleanField(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}
