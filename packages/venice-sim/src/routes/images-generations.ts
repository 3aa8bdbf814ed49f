/**
 * `POST /images/generations`: the OpenAI-compatible route. One image a call (`n` is 1), `size` from
 * a fixed list, `safe_mode` refused, an unknown model silently replaced by the default one.
 */
import { waitWhileHeld } from '../behaviour.js';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MESSAGES, detailedError, standardError } from '../api-errors.js';
import { DEFAULT_IMAGE_MODEL, imagePrice } from '../catalog.js';
import { gate } from '../gate.js';
import { payerOf } from '../payers.js';
import { ratioToPixels, type ImageFormat } from '../generate-request.js';
import { renderImage } from '../render-image.js';
import { errorReply, json, type Reply } from '../replies.js';
import { baseHeaders, inferenceHeaders, parseJsonBody, type SimState } from '../sim-state.js';
import { BLUR_TRIGGER } from '../triggers.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const OPENAI_KEYS = new Set(['prompt', 'model', 'n', 'size', 'response_format', 'output_format', 'moderation', 'quality', 'style', 'background', 'output_compression', 'user', 'anon_user_id']);
const OPENAI_ENUMS: Record<string, string[]> = {
  size: ['auto', '256x256', '512x512', '1024x1024', '1536x1024', '1024x1536', '1792x1024', '1024x1792'],
  response_format: ['b64_json', 'url'],
  output_format: ['jpeg', 'png', 'webp'],
  moderation: ['low', 'auto'],
  quality: ['auto', 'high', 'medium', 'low', 'hd', 'standard'],
  style: ['vivid', 'natural'],
  background: ['transparent', 'opaque', 'auto'],
};

export async function handleGenerations(state: SimState, req: IncomingMessage, raw: Buffer, key: string): Promise<Reply> {
  const { behaviour, budget, models } = state;
  const parsed = parseJsonBody(req, raw);
  if (!parsed.ok) return errorReply(parsed.error, baseHeaders());
  const input = parsed.value as Record<string, unknown>;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return errorReply(detailedError([{ code: 'invalid_type', path: [], message: 'Expected object' }]), baseHeaders());
  }
  const issues: { code: string; path: string[]; message: string; keys?: string[] }[] = [];
  const unknown = Object.keys(input).filter((k) => !OPENAI_KEYS.has(k));
  if (unknown.length) issues.push({ code: 'unrecognized_keys', keys: unknown, path: [], message: `Unrecognized key(s) in object: ${unknown.map((k) => `'${k}'`).join(', ')}` });
  if (typeof input.prompt !== 'string' || input.prompt.length < 1 || input.prompt.length > 1500) {
    issues.push({ code: 'invalid_value', path: ['prompt'], message: 'prompt must be a string of 1 to 1500 characters' });
  }
  if (input.n !== undefined && input.n !== null && input.n !== 1) issues.push({ code: 'invalid_value', path: ['n'], message: 'Number must be less than or equal to 1' });
  for (const [field, values] of Object.entries(OPENAI_ENUMS)) {
    const value = input[field];
    if (value !== undefined && value !== null && !values.includes(String(value))) {
      issues.push({ code: 'invalid_enum_value', path: [field], message: `Invalid enum value. Expected ${values.map((v) => `'${v}'`).join(' | ')}, received '${String(value)}'` });
    }
  }
  const scope = `${key}|${String(input.model ?? '')}`;
  if (issues.length) {
    budget.recordFailure(scope);
    return errorReply(detailedError(issues), baseHeaders());
  }
  if (typeof input.model !== 'string' || input.model === '') return errorReply(standardError(400, MESSAGES.modelRequired), baseHeaders());
  const known = models.get(input.model);
  const model = known && known.type === 'image' ? known : models.get(DEFAULT_IMAGE_MODEL)!;
  const price = imagePrice(model, model.model_spec.constraints?.defaultResolution, model.model_spec.constraints?.defaultQuality);
  const payer = payerOf(state, key);
  const balanceBefore = payer.balance();
  const gated = gate(state, `${key}|${model.id}`, 1, price, payer);
  if (gated.reply) return gated.reply;
  if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
  await waitWhileHeld(behaviour);
  const size = String(input.size ?? 'auto');
  const [w, h] = size === 'auto' ? [1024, 1024] : size.split('x').map(Number);
  const constraints = model.model_spec.constraints;
  const pixels = constraints?.aspectRatios
    ? ratioToPixels(constraints.defaultAspectRatio === 'auto' ? '1:1' : (constraints.defaultAspectRatio ?? '1:1'), constraints.defaultResolution)
    : { width: w!, height: h! };
  const format = (input.output_format as ImageFormat | undefined) ?? 'png';
  const image = await renderImage({
    fingerprint: JSON.stringify(['openai', model.id, input.prompt, size]),
    label: String(input.prompt),
    width: pixels.width,
    height: pixels.height,
    format,
    blurred: input.moderation !== 'low' && String(input.prompt).includes(BLUR_TRIGGER),
  });
  payer.charge(price);
  const b64 = image.toString('base64');
  const item = input.response_format === 'url' ? { url: `data:image/${format};base64,${b64}` } : { b64_json: b64 };
  const reply = json(200, { created: Math.floor(Date.now() / 1000), data: [item] }, { ...baseHeaders(), ...inferenceHeaders(gated.window, balanceBefore), ...payer.paidHeaders() });
  reply.servedImages = [sha256(image)];
  return reply;
}

