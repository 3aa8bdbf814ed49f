/**
 * `POST /image/upscale` and `POST /image/background-remove` (reference §6): one image in, one PNG out.
 * Upscale takes `scale` 2 or 4 (default 2; 1 refused), `creativity` (clamped to 0–0.02), an input of
 * at least 65,536 px, and an output of at most 16,777,216 px: 4× is silently lowered to 2× when 4×
 * would pass it, as Venice does. Background removal takes exactly one of `image` (base64) or
 * `image_url` in JSON, or an `image` file in multipart, and answers the same size with an alpha
 * channel. Prices: 2× $0.02, 4× $0.08 (the catalog's upscaler), background removal $0.03.
 */
import type { IncomingMessage } from 'node:http';
import sharp from 'sharp';
import { standardError } from '../api-errors.js';
import { decodeImage, numberField, readImageRequest, unknownFields } from '../image-input.js';
import { errorReply, type Reply } from '../replies.js';
import { baseHeaders, type SimState } from '../sim-state.js';
import { paidImage, refused } from './paid-image.js';

export const MIN_UPSCALE_INPUT_PIXELS = 65_536;
export const MAX_UPSCALE_OUTPUT_PIXELS = 16_777_216;
/** bria-bg-remover's price: not in the image catalog, which lists no background-removal model. */
export const BACKGROUND_REMOVAL_USD = 0.03;

/** The upscaler's price for a scale, from the catalog (`upscale.2x` / `upscale.4x`). */
function upscalePrice(state: SimState, scale: 2 | 4): number {
  const pricing = state.models.get('upscaler')?.model_spec.pricing as { upscale?: Record<string, { usd: number }> } | undefined;
  return pricing?.upscale?.[`${scale}x`]?.usd ?? (scale === 2 ? 0.02 : 0.08);
}

export async function handleUpscale(state: SimState, req: IncomingMessage, raw: Buffer, caller: string): Promise<Reply> {
  const scope = `${caller}|upscaler`;
  const parsed = await readImageRequest(req, raw);
  if (!parsed.ok) return errorReply(parsed.error, baseHeaders());
  const { fields } = parsed.value;
  const unknown = unknownFields(fields, ['image', 'scale', 'creativity']);
  if (unknown) return refused(state, scope, unknown);
  const scale = fields.scale === undefined ? 2 : numberField(fields.scale);
  if (scale !== 2 && scale !== 4) return refused(state, scope, standardError(400, 'scale must be 2 or 4'));
  const creativity = fields.creativity === undefined || fields.creativity === null || fields.creativity === 'null' ? 0.01 : numberField(fields.creativity);
  if (creativity === undefined) return refused(state, scope, standardError(400, 'creativity must be a number'));
  const image = await decodeImage(fields.image, 'image', false);
  if (!image.ok) return refused(state, scope, image.error);
  const { width, height } = image.value;
  if (width * height < MIN_UPSCALE_INPUT_PIXELS) {
    return refused(state, scope, standardError(400, `Image is too small to upscale: ${width}x${height} is under ${MIN_UPSCALE_INPUT_PIXELS} pixels`));
  }
  // 4× past the output limit is lowered to 2×; 2× past it is refused
  const effective: 2 | 4 = scale === 4 && width * height * 16 > MAX_UPSCALE_OUTPUT_PIXELS ? 2 : scale;
  if (width * height * effective * effective > MAX_UPSCALE_OUTPUT_PIXELS) {
    return refused(state, scope, standardError(400, `Image is too large to upscale: the output would exceed ${MAX_UPSCALE_OUTPUT_PIXELS} pixels`));
  }
  return paidImage(state, caller, {
    scope,
    priceUsd: upscalePrice(state, effective),
    make: async () => ({
      bytes: await sharp(image.value.bytes).resize(width * effective, height * effective, { kernel: 'lanczos3' }).png().toBuffer(),
      contentType: 'image/png',
    }),
  });
}

export async function handleBackgroundRemove(state: SimState, req: IncomingMessage, raw: Buffer, caller: string): Promise<Reply> {
  const scope = `${caller}|bria-bg-remover`;
  const parsed = await readImageRequest(req, raw);
  if (!parsed.ok) return errorReply(parsed.error, baseHeaders());
  const { fields, multipart } = parsed.value;
  const unknown = unknownFields(fields, multipart ? ['image'] : ['image', 'image_url']);
  if (unknown) return refused(state, scope, unknown);
  if ((fields.image === undefined) === (fields.image_url === undefined)) {
    return refused(state, scope, standardError(400, 'Provide exactly one of image or image_url'));
  }
  const image = fields.image !== undefined ? await decodeImage(fields.image, 'image', false) : await decodeImage(fields.image_url, 'image_url', true);
  if (!image.ok) return refused(state, scope, image.error);
  return paidImage(state, caller, { scope, priceUsd: BACKGROUND_REMOVAL_USD, make: async () => ({ bytes: await cutOut(image.value.bytes), contentType: 'image/png' }) });
}

/**
 * The simulator's "background removal": pixels close to the top-left corner's colour become
 * transparent, so the answer has an alpha channel, the input's size, and a visible change.
 */
async function cutOut(bytes: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const [r0, g0, b0] = [data[0]!, data[1]!, data[2]!];
  for (let i = 0; i < data.length; i += 4) {
    const distance = Math.abs(data[i]! - r0) + Math.abs(data[i + 1]! - g0) + Math.abs(data[i + 2]! - b0);
    if (distance < 60) data[i + 3] = 0;
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}
