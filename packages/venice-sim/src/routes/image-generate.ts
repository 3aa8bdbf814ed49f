/** `POST /image/generate`: Venice's native route, one image as raw bytes or several as JSON. */
import { waitWhileHeld } from '../behaviour.js';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MESSAGES, standardError, type ApiError } from '../api-errors.js';
import { imagePrice, type CatalogModel } from '../catalog.js';
import { gate } from '../gate.js';
import { payerOf } from '../payers.js';
import { validateGenerate, type ImageFormat } from '../generate-request.js';
import { renderImage, violationPlaceholder } from '../render-image.js';
import { errorReply, json, type Reply } from '../replies.js';
import { baseHeaders, inferenceHeaders, parseJsonBody, type SimState } from '../sim-state.js';
import { BLUR_TRIGGER, GRAIN_TRIGGER, VIOLATION_TRIGGER } from '../triggers.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks that need the key and the model: model privacy (403) and style-reference size (422). */
function refuse(state: SimState, key: string, model: CatalogModel, references: { image: string }[] | undefined): ApiError | undefined {
  if (state.privateOnly.has(key) && model.model_spec.privacy !== 'private') {
    return standardError(403, `This API key is set to 'PRIVATE_ONLY', but \`${model.id}\` is an Anonymous model. Change the key's model privacy setting or use a private model.`);
  }
  const tooLarge = references?.find((r) => Buffer.byteLength(r.image.replace(/^data:[^,]*,/, ''), 'base64') > 8 * 1024 * 1024);
  if (tooLarge) return standardError(422, 'Style reference image is too large. Images must be under 8 MB.');
  return undefined;
}

export async function handleGenerate(state: SimState, req: IncomingMessage, raw: Buffer, key: string): Promise<Reply> {
  const { behaviour, limiter, budget, models } = state;
  const parsed = parseJsonBody(req, raw);
  if (!parsed.ok) return errorReply(parsed.error, baseHeaders());
  const modelName = typeof (parsed.value as { model?: unknown })?.model === 'string' ? (parsed.value as { model: string }).model : 'unknown';
  const scope = `${key}|${modelName}`;
  const validated = validateGenerate(parsed.value, models);
  if (!validated.ok) {
    if (budget.isBlocked(scope)) return json(429, { error: MESSAGES.lockedOut }, baseHeaders());
    if (validated.error.countsTowardBudget) budget.recordFailure(scope);
    return errorReply(validated.error, { ...baseHeaders(), ...inferenceHeaders(limiter.peek(scope, behaviour.rpm), behaviour.balanceUsd) });
  }
  const { request, model, pixelWidth, pixelHeight, resolution, quality } = validated.value;
  const refusal = refuse(state, key, model, request.style_references);
  if (refusal) {
    if (refusal.countsTowardBudget) budget.recordFailure(scope);
    return errorReply(refusal, { ...baseHeaders(), ...inferenceHeaders(limiter.peek(scope, behaviour.rpm), behaviour.balanceUsd) });
  }
  const price = imagePrice(model, resolution, quality) * request.variants;
  const payer = payerOf(state, key);
  const balanceBefore = payer.balance();
  const gated = gate(state, scope, request.variants, price, payer);
  if (gated.reply) return gated.reply;
  if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
  await waitWhileHeld(behaviour);
  if (gated.fault?.kind === 'hang') await sleep(10 * 60_000);

  const violation = request.prompt.includes(VIOLATION_TRIGGER);
  const blurred = !violation && request.safe_mode && request.prompt.includes(BLUR_TRIGGER);
  const seed = request.seed ?? Math.floor(Math.random() * 999_999_999);
  const images: Buffer[] = [];
  for (let i = 0; i < request.variants; i++) {
    if (violation && request.return_binary) {
      images.push(await violationPlaceholder(pixelWidth, pixelHeight));
      continue;
    }
    const fingerprint = JSON.stringify([request.model, request.prompt, request.negative_prompt, request.style_preset, request.cfg_scale, request.steps, resolution, quality, request.aspect_ratio, seed, i]);
    images.push(
      await renderImage({
        fingerprint,
        label: `${request.prompt.replace(BLUR_TRIGGER, '').trim()} #${seed}${i > 0 ? `/${i}` : ''}`,
        width: pixelWidth,
        height: pixelHeight,
        format: request.format,
        blurred,
        blackedOut: violation,
        grain: request.prompt.includes(GRAIN_TRIGGER),
      }),
    );
  }
  if (!violation) payer.charge(price);
  const headers: Record<string, string> = {
    ...baseHeaders(),
    ...inferenceHeaders(gated.window, balanceBefore),
    ...payer.paidHeaders(),
    'x-venice-is-blurred': String(blurred),
    'x-venice-is-content-violation': String(violation),
    'x-venice-model-id': model.id,
    'x-venice-model-name': model.model_spec.name,
  };
  if (request.enhance_prompt) headers['x-venice-enhanced-prompt'] = encodeURIComponent(`${request.prompt}, highly detailed`);

  const fault = gated.fault;
  if (request.return_binary) {
    let body = images[0]!;
    let contentType = `image/${violation ? 'png' : request.format}`;
    if (fault?.kind === 'wrong-format') body = await renderImage({ fingerprint: 'wrong', label: 'wrong', width: pixelWidth, height: pixelHeight, format: request.format === 'png' ? 'jpeg' : 'png' });
    if (fault?.kind === 'wrong-content-type') contentType = 'text/html; charset=utf-8';
    if (fault?.kind === 'truncated-base64' || fault?.kind === 'invalid-base64') body = body.subarray(0, Math.floor(body.length / 2));
    return { status: 200, headers: { ...headers, 'content-type': contentType }, body, compressible: false, drop: fault?.kind === 'drop', servedImages: [sha256(body)] };
  }
  let encoded = images.map((image) => image.toString('base64'));
  if (fault?.kind === 'truncated-base64') encoded = encoded.map((text) => text.slice(0, Math.floor(text.length / 2) + 1));
  if (fault?.kind === 'invalid-base64') encoded = encoded.map((text) => `${text.slice(0, 100)}!!not base64!!${text.slice(100)}`);
  if (fault?.kind === 'wrong-format') {
    const other: ImageFormat = request.format === 'png' ? 'jpeg' : 'png';
    encoded = [(await renderImage({ fingerprint: 'wrong', label: 'wrong', width: pixelWidth, height: pixelHeight, format: other })).toString('base64')];
  }
  state.generationCounter += 1;
  const reply = json(200, {
    id: `generate-image-${Date.now()}${String(state.generationCounter).padStart(4, '0')}`,
    images: encoded,
    timing: {
      inferenceDuration: 900 + behaviour.latencyMs,
      inferencePreprocessingTime: 12.5,
      inferenceQueueTime: 20.25,
      total: 932.75 + behaviour.latencyMs,
    },
    request: { success: true, data: { ...request, seed } },
  }, headers);
  if (fault?.kind === 'wrong-content-type') reply.headers['content-type'] = 'text/html; charset=utf-8';
  reply.drop = fault?.kind === 'drop';
  reply.servedImages = encoded.map((text) => sha256(Buffer.from(text, 'base64')));
  return reply;
}

