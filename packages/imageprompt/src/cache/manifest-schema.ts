/**
 * A manifest is data from outside the process, wherever it was read: the shared cache, a committed
 * `.imageprompt/`, a rescue folder. Each is checked here, strictly, before any of its values is
 * used: a field of the wrong type or shape, an image size or byte count no route returns, metadata
 * that is not what imageprompt writes, outputs that do not match the request, a request that does not
 * hash to the entry's key. Whatever fails is a miss (regenerated), never an error and never copied.
 * Blob paths are never read from a manifest: they are made from its checked digest and format.
 */
import { z } from 'zod';
import { MANIFEST_VERSION, type Manifest } from './cache-port.js';
import { sizeProblem, maxImageBytes, MAX_SIDE } from '../images/image-check.js';
import { OPENAI_ROUTE } from '../prompt/openai-route.js';
import { STEP_ROUTES } from '../steps/step-request.js';
import { extensionOf, IMAGE_FORMATS, type ImageFormat } from '../images/image-formats.js';
import { BASE64, BLUR_DATA_URL, HEX_COLOR, MAX_BLUR_DATA_URL, MAX_THUMBHASH, SHA256_HEX } from './metadata-shape.js';

export { extensionOf, MAX_BLUR_DATA_URL };


/** Venice's seed range. */
export const SEED_LIMIT = 999_999_999;

const digest = z.string().regex(SHA256_HEX, 'must be a sha256 in hex');
const base64 = (max: number) => z.string().max(max).regex(BASE64, 'must be base64');
const side = z.number().int().min(1).max(MAX_SIDE);
const seed = z.number().int().min(-SEED_LIMIT).max(SEED_LIMIT);
const shortText = (max: number) => z.string().max(max);

export const imageMetadataSchema = z.strictObject({
  blurDataURL: z
    .string()
    .max(MAX_BLUR_DATA_URL)
    .regex(BLUR_DATA_URL, 'must be a data:image/…;base64, URL'),
  thumbhash: base64(MAX_THUMBHASH),
  color: z.string().regex(HEX_COLOR, 'must be #rrggbb'),
  aspectRatio: z.number().positive().max(MAX_SIDE),
});

const outputSchema = z
  .strictObject({
    digest,
    format: z.enum(IMAGE_FORMATS),
    width: side,
    height: side,
    bytes: z.number().int().min(1),
    /** Informative only: readers make the path from digest and format. */
    file: z.string().regex(/^(blobs\/)?[0-9a-f]{64}\.(webp|png|jpg)$/, 'must be blobs/<sha256>.<ext>'),
    meta: imageMetadataSchema.optional(),
  })
  .refine((o) => o.file.endsWith(blobName(o.digest, o.format)), 'file must be named by its digest and format')
  .refine((o) => o.bytes <= maxImageBytes(o.width, o.height), 'bytes is more than an image of its size can take');

/** The request as stored: checked where its values are used; its whole is bound to the key by hashing it. */
const requestSchema = z.looseObject({
  model: shortText(200),
  prompt: z.string().max(100_000),
  format: z.enum(IMAGE_FORMATS),
  variants: z.number().int().min(1).max(4),
  seed,
  width: side.optional(),
  height: side.optional(),
  aspect_ratio: shortText(20).optional(),
  resolution: shortText(20).optional(),
});

export const manifestSchema = z
  .strictObject({
    version: z.literal(MANIFEST_VERSION),
    key: digest,
    provider: z.string().regex(/^[a-z][a-z0-9-]*$/).max(100),
    request: requestSchema,
    route: z.enum([OPENAI_ROUTE, ...STEP_ROUTES]).optional(),
    sent: z.record(z.string(), z.unknown()).optional(),
    seed,
    seedSource: z.enum(['file', 'derived']),
    response: z.strictObject({
      id: shortText(200).nullable(),
      cfRay: shortText(200).nullable(),
      timing: z.record(z.string().max(100), z.number()).nullable(),
    }),
    flags: z.strictObject({ blurred: z.boolean(), contentViolation: z.boolean() }),
    origin: z.strictObject({ host: shortText(260), simulator: z.boolean() }).optional(),
    createdAt: z.iso.datetime(),
    durationMs: z.number().int().min(0),
    outputs: z.array(outputSchema).min(1).max(4),
    /** Only on the shared cache: the HMAC of the rest (see remote/manifest-signature.ts). */
    signature: shortText(200).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.outputs.length !== m.request.variants) ctx.addIssue({ code: 'custom', path: ['outputs'], message: `holds ${m.outputs.length} images where the request asks for ${m.request.variants}` });
    if (m.seed !== m.request.seed) ctx.addIssue({ code: 'custom', path: ['seed'], message: 'differs from the request\'s seed' });
    if ((m.route === undefined) !== (m.sent === undefined)) ctx.addIssue({ code: 'custom', path: ['route'], message: 'route and sent go together' });
    // sizes no route returns for this request (the OpenAI-compatible route's sizes are its provider's)
    const request = m.route ? undefined : (m.request as unknown as Parameters<typeof sizeProblem>[1]);
    m.outputs.forEach((o, i) => {
      const problem = sizeProblem(o, request);
      if (problem) ctx.addIssue({ code: 'custom', path: ['outputs', i], message: problem });
    });
  });

/** A manifest that passed the schema, as the cache uses it (the request is the one its key hashes). */
export type CheckedManifest = Manifest & { signature?: string };

/** The checked manifest, or why it is not one (the first problem, with its field). */
export function checkManifest(data: unknown, key: string): { manifest: CheckedManifest } | { problem: string } {
  const result = manifestSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : 'the manifest';
    return { problem: `field "${field}" ${issue.message.replace(/^Invalid input: /, '')}` };
  }
  if (result.data.key !== key) return { problem: `it names key ${result.data.key.slice(0, 12)}` };
  return { manifest: result.data as unknown as CheckedManifest };
}

/** A blob's file name: made from its digest and format only. */
export function blobName(digest: string, format: ImageFormat): string {
  return `${digest}.${extensionOf(format)}`;
}
