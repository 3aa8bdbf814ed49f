/**
 * The HTTP server: routes under `/api/v1` as Venice answers them, plus `/__sim/*` control routes
 * that tests and other processes use to script faults and read the request log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { MESSAGES, detailedError, paymentRequired, standardError, type ApiError } from './api-errors.js';
import { applyControl, type Behaviour, type ControlRequest, type Fault } from './behaviour.js';
import { DEFAULT_IMAGE_MODEL, imagePrice, loadCatalog, traitMap, type CatalogModel } from './catalog.js';
import { ratioToPixels, validateGenerate, type ImageFormat } from './generate-request.js';
import { ErrorBudget, RateLimiter, type RateWindow } from './limits.js';
import { renderImage, violationPlaceholder } from './render-image.js';
import { STYLE_PRESETS } from './styles.js';

export const VENICE_VERSION = '20260821.193530';
/** Prompt markers that make the simulator answer as Venice does for moderated output. */
export const BLUR_TRIGGER = '[sim:blur]';
export const VIOLATION_TRIGGER = '[sim:violation]';
export const GRAIN_TRIGGER = '[sim:grain]';

export interface VeniceSimOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** API keys the server accepts. @default ['sim-key'] */
  keys?: string[];
  /** Keys set to model privacy "PRIVATE_ONLY": anonymized models answer them 403. @default [] */
  privateOnlyKeys?: string[];
  /** Added to every image request before it is answered. @default 0 */
  latencyMs?: number;
  /** Image requests per minute per key and model (each variant counts); 0 = no limit. @default 20 */
  rpm?: number;
  /** Account balance in USD; each image is charged at the catalog price. @default 1000 */
  balanceUsd?: number;
  /** Non-429 4xx answers per 30 s that trigger the 30-s lockout. @default 50 */
  errorBudget?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case header names; the Authorization value is redacted. */
  headers: Record<string, string>;
  body: unknown;
  status: number;
  receivedAt: number;
  /** sha256 (hex) of each image in the answer, as served: the raw body or each decoded base64 image. */
  servedImages: string[];
}

export interface VeniceSim {
  /** Base URL, e.g. `http://127.0.0.1:41234/api/v1`. */
  url: string;
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Requests to the image-generating routes only. */
  imageRequests(): RecordedRequest[];
  script(control: ControlRequest): void;
  readonly behaviour: Behaviour;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 35 * 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Whether Accept-Encoding may compress it (JSON only). */
  compressible: boolean;
  drop?: boolean;
  servedImages?: string[];
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(body)),
    compressible: true,
  };
}

function errorReply(error: ApiError, headers: Record<string, string> = {}): Reply {
  return json(error.status, error.body, { ...headers, ...error.headers });
}

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    headers[name] = name === 'authorization' ? text.replace(/^(\w+)\s+.*$/, '$1 [redacted]') : text;
  }
  return headers;
}

export async function startVeniceSim(options: VeniceSimOptions = {}): Promise<VeniceSim> {
  const catalog = loadCatalog();
  const models = new Map<string, CatalogModel>(catalog.map((m) => [m.id, m]));
  const privateOnly = new Set(options.privateOnlyKeys ?? []);
  const keys = new Set([...(options.keys ?? ['sim-key']), ...privateOnly]);
  const behaviour: Behaviour = {
    latencyMs: options.latencyMs ?? 0,
    rpm: options.rpm ?? 20,
    balanceUsd: options.balanceUsd ?? 1000,
    faults: [],
  };
  const now = () => Date.now();
  const limiter = new RateLimiter(now);
  const budget = new ErrorBudget(now, options.errorBudget ?? 50);
  const requests: RecordedRequest[] = [];
  let generationCounter = 0;

  function control(request: ControlRequest): void {
    applyControl(behaviour, request);
    if (request.clearRequests) requests.length = 0;
    if (request.resetLimits) {
      limiter.reset();
      budget.reset();
    }
  }

  function baseHeaders(): Record<string, string> {
    return {
      'cf-ray': `${randomBytes(8).toString('hex')}-SIM`,
      'x-venice-version': VENICE_VERSION,
    };
  }

  function inferenceHeaders(window: RateWindow, balanceBefore: number): Record<string, string> {
    return {
      'x-venice-balance-usd': balanceBefore.toFixed(6),
      'x-venice-balance-diem': '0.000000',
      'x-ratelimit-limit-requests': String(window.limit),
      'x-ratelimit-remaining-requests': String(window.remaining),
      'x-ratelimit-reset-requests': String(window.resetAt),
    };
  }

  /** Checks that need the key and the model: model privacy (403) and style-reference size (422). */
  function refuse(key: string, model: CatalogModel, references: { image: string }[] | undefined): ApiError | undefined {
    if (privateOnly.has(key) && model.model_spec.privacy !== 'private') {
      return standardError(403, `This API key is set to 'PRIVATE_ONLY', but \`${model.id}\` is an Anonymous model. Change the key's model privacy setting or use a private model.`);
    }
    const tooLarge = references?.find((r) => Buffer.byteLength(r.image.replace(/^data:[^,]*,/, ''), 'base64') > 8 * 1024 * 1024);
    if (tooLarge) return standardError(422, 'Style reference image is too large. Images must be under 8 MB.');
    return undefined;
  }

  type AuthResult = { ok: true; key: string | undefined } | { ok: false; error: ApiError };

  function authenticate(req: IncomingMessage, required: boolean, url: string): AuthResult {
    const header = req.headers.authorization;
    const siwx = req.headers['sign-in-with-x'] ?? req.headers['x-sign-in-with-x'];
    if (!header && !siwx) return required ? { ok: false, error: paymentRequired(url) } : { ok: true, key: undefined };
    if (siwx) return { ok: false, error: { ...standardError(401, 'Invalid SIWX header'), body: { error: 'Invalid SIWX header', code: 'X402_SIGN_IN_INVALID_SIGNATURE' } } };
    const match = /^Bearer\s+(.+)$/i.exec(String(header));
    if (!match || !keys.has(match[1]!.trim())) return { ok: false, error: standardError(401, MESSAGES.authFailed) };
    return { ok: true, key: match[1]!.trim() };
  }

  async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return 'too-large';
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  type ParsedBody = { ok: true; value: unknown } | { ok: false; error: ApiError };

  function parseJsonBody(req: IncomingMessage, raw: Buffer): ParsedBody {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return { ok: false, error: standardError(400, MESSAGES.badContentType, false) };
    try {
      return { ok: true, value: JSON.parse(raw.toString('utf8')) };
    } catch {
      return { ok: false, error: standardError(400, MESSAGES.invalidJson, false) };
    }
  }

  /** The checks every image request passes before inference: lockout, faults, rate limit, balance. */
  function gate(scope: string, cost: number, priceUsd: number): { reply?: Reply; window: RateWindow; fault?: Fault } {
    const base = baseHeaders();
    if (budget.isBlocked(scope)) {
      const window = limiter.peek(scope, behaviour.rpm);
      return { window, reply: json(429, { error: MESSAGES.lockedOut }, { ...base, ...inferenceHeaders(window, behaviour.balanceUsd) }) };
    }
    const fault = behaviour.faults.shift();
    if (fault?.kind === 'status') {
      const window = limiter.peek(scope, behaviour.rpm);
      const message = fault.status === 503 ? MESSAGES.atCapacity : MESSAGES.inferenceFailed;
      return { window, reply: json(fault.status, { error: message }, { ...base, ...inferenceHeaders(window, behaviour.balanceUsd) }) };
    }
    if (fault?.kind === 'overload') {
      const window = limiter.peek(scope, behaviour.rpm);
      return {
        window,
        reply: json(429, { error: MESSAGES.overloaded }, {
          ...base,
          ...inferenceHeaders(window, behaviour.balanceUsd),
          'retry-after': String(fault.retryAfterSeconds),
        }),
      };
    }
    const { allowed, window } = limiter.take(scope, behaviour.rpm, cost);
    if (!allowed) {
      return {
        window,
        reply: json(429, { error: MESSAGES.rateLimited }, { ...base, ...inferenceHeaders(window, behaviour.balanceUsd), 'x-ratelimit-type': 'api_key' }),
      };
    }
    if (behaviour.balanceUsd < priceUsd) {
      return { window, reply: errorReply(standardError(402, MESSAGES.insufficientBalance), { ...base, ...inferenceHeaders(window, behaviour.balanceUsd) }) };
    }
    return { window, fault };
  }

  async function handleGenerate(req: IncomingMessage, raw: Buffer, key: string): Promise<Reply> {
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
    const refusal = refuse(key, model, request.style_references);
    if (refusal) {
      if (refusal.countsTowardBudget) budget.recordFailure(scope);
      return errorReply(refusal, { ...baseHeaders(), ...inferenceHeaders(limiter.peek(scope, behaviour.rpm), behaviour.balanceUsd) });
    }
    const price = imagePrice(model, resolution, quality) * request.variants;
    const balanceBefore = behaviour.balanceUsd;
    const gated = gate(scope, request.variants, price);
    if (gated.reply) return gated.reply;
    if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
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
    if (!violation) behaviour.balanceUsd = Math.max(0, behaviour.balanceUsd - price);
    const headers: Record<string, string> = {
      ...baseHeaders(),
      ...inferenceHeaders(gated.window, balanceBefore),
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
    generationCounter += 1;
    const reply = json(200, {
      id: `generate-image-${Date.now()}${String(generationCounter).padStart(4, '0')}`,
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

  async function handleGenerations(req: IncomingMessage, raw: Buffer, key: string): Promise<Reply> {
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
    const balanceBefore = behaviour.balanceUsd;
    const gated = gate(`${key}|${model.id}`, 1, price);
    if (gated.reply) return gated.reply;
    if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
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
    behaviour.balanceUsd = Math.max(0, behaviour.balanceUsd - price);
    const b64 = image.toString('base64');
    const item = input.response_format === 'url' ? { url: `data:image/${format};base64,${b64}` } : { b64_json: b64 };
    return json(200, { created: Math.floor(Date.now() / 1000), data: [item] }, { ...baseHeaders(), ...inferenceHeaders(gated.window, balanceBefore) });
  }

  const MODEL_TYPES = ['asr', 'embedding', 'image', 'music', 'text', 'tts', 'upscale', 'inpaint', 'video'];

  function handleModels(url: URL, route: 'list' | 'traits' | 'compatibility'): Reply {
    const type = url.searchParams.get('type') ?? 'text';
    const allowed = route === 'compatibility' ? MODEL_TYPES : [...MODEL_TYPES, 'all', 'code'];
    if (!allowed.includes(type)) {
      return errorReply(detailedError([{ code: 'invalid_enum_value', path: ['type'], received: type, message: `Invalid enum value. Expected ${allowed.map((t) => `'${t}'`).join(' | ')}, received '${type}'` }]), baseHeaders());
    }
    const selected = catalog.filter((m) => type === 'all' || m.type === type);
    if (route === 'list') {
      const data = selected.map((m) => ({ created: m.created, id: m.id, model_spec: m.model_spec, object: 'model', owned_by: 'venice.ai', type: m.type }));
      return json(200, { object: 'list', type, data }, baseHeaders());
    }
    const data = route === 'traits' ? traitMap(selected) : {};
    return json(200, { object: 'list', type, data }, baseHeaders());
  }

  async function route(req: IncomingMessage, url: URL, raw: Buffer): Promise<Reply> {
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === '/__sim/control' && method === 'POST') {
      control(JSON.parse(raw.toString('utf8') || '{}') as ControlRequest);
      return json(200, { ok: true, behaviour });
    }
    if (path === '/__sim/requests' && method === 'GET') return json(200, { requests });
    if (!path.startsWith('/api/v1/')) return json(404, { error: 'Not found' });
    const apiPath = path.slice('/api/v1'.length);
    const fullUrl = `http://${req.headers.host ?? 'localhost'}${url.pathname}`;

    const publicRoutes: Record<string, () => Reply> = {
      '/image/styles': () => json(200, { object: 'list', data: STYLE_PRESETS }, baseHeaders()),
      '/models': () => handleModels(url, 'list'),
      '/models/traits': () => handleModels(url, 'traits'),
      '/models/compatibility_mapping': () => handleModels(url, 'compatibility'),
    };
    if (method === 'GET' && publicRoutes[apiPath]) {
      const auth = authenticate(req, false, fullUrl);
      if (!auth.ok) return errorReply(auth.error, baseHeaders());
      return publicRoutes[apiPath]!();
    }
    const credentialed: Record<string, (key: string) => Promise<Reply>> = {
      '/image/generate': (key) => handleGenerate(req, raw, key),
      '/images/generations': (key) => handleGenerations(req, raw, key),
    };
    if (method === 'POST' && credentialed[apiPath]) {
      const auth = authenticate(req, true, fullUrl);
      if (!auth.ok) return errorReply(auth.error, baseHeaders());
      return credentialed[apiPath]!(auth.key!);
    }
    if (method === 'GET' && apiPath === '/api_keys/rate_limits') {
      const auth = authenticate(req, true, fullUrl);
      if (!auth.ok) return errorReply(auth.error, baseHeaders());
      const rateLimits = catalog
        .filter((m) => m.type === 'image')
        .map((m) => ({ apiModelId: m.id, rateLimits: [{ type: 'RPM', amount: behaviour.rpm }] }));
      return json(200, {
        data: {
          accessPermitted: true,
          apiTier: { id: 'paid', isCharged: true },
          balances: { USD: behaviour.balanceUsd, DIEM: 0 },
          keyExpiration: null,
          nextEpochBegins: new Date(Date.now() + 86_400_000).toISOString(),
          rateLimits,
        },
      }, baseHeaders());
    }
    return json(404, { error: 'Not found' }, baseHeaders());
  }

  async function send(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
    let body = reply.body;
    const headers = { ...reply.headers };
    const accepted = String(req.headers['accept-encoding'] ?? '');
    if (reply.compressible && body.length > 0) {
      // off the event loop, and brotli at a middling quality: answers can be hundreds of megabytes
      if (/\bbr\b/.test(accepted)) {
        body = await brotli(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } });
        headers['content-encoding'] = 'br';
      } else if (/\bgzip\b/.test(accepted)) {
        body = await gzipAsync(body);
        headers['content-encoding'] = 'gzip';
      }
    }
    headers['content-length'] = String(body.length);
    headers.date = new Date().toUTCString();
    res.writeHead(reply.status, headers);
    if (reply.drop) {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = await readBody(req);
      let reply: Reply;
      let bodyForLog: unknown;
      if (raw === 'too-large') {
        reply = json(413, { code: 'PAYLOAD_TOO_LARGE', error: 'Request body exceeds 35 MB' }, baseHeaders());
      } else {
        const text = raw.toString('utf8');
        try {
          bodyForLog = text ? JSON.parse(text) : undefined;
        } catch {
          bodyForLog = text;
        }
        try {
          reply = await route(req, url, raw);
        } catch (error) {
          reply = json(500, { error: MESSAGES.inferenceFailed, detail: String(error) }, baseHeaders());
        }
      }
      if (!url.pathname.startsWith('/__sim/')) {
        requests.push({
          method: req.method ?? 'GET',
          path: url.pathname + url.search,
          headers: redactHeaders(req),
          body: bodyForLog,
          status: reply.status,
          receivedAt: Date.now(),
          servedImages: reply.servedImages ?? [],
        });
      }
      await send(req, res, reply);
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/api/v1`,
    port: address.port,
    requests,
    imageRequests: () => requests.filter((r) => r.method === 'POST' && /\/image\/generate$|\/images\/generations$/.test(r.path)),
    script: control,
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
