/**
 * The simulator against the reference (shared/reference/venice-api.md): every error row of §2.7,
 * both success shapes, the headers, compression, and the envelopes of styles, models and traits.
 */
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage, generateSiweNonce } from 'viem/siwe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BLUR_TRIGGER, VIOLATION_TRIGGER, startVeniceSim, type VeniceSim } from '../src/index.js';

let sim: VeniceSim;
const KEY = 'conformance-key';

beforeAll(async () => {
  sim = await startVeniceSim({ keys: [KEY], privateOnlyKeys: ['private-only-key'], rpm: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.script({ clearFaults: true, clearRequests: true, resetLimits: true, rpm: 0, latencyMs: 0, balanceUsd: 1000 }));

function generate(body: unknown, init: { key?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? KEY}`;
  return fetch(`${sim.url}/image/generate`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const base = { model: 'z-image-turbo', prompt: 'a lighthouse', seed: 7 };

describe('POST /image/generate success', () => {
  it('returns JSON {id, images, timing, request} with one image per variant', async () => {
    const res = await generate({ ...base, variants: 3, width: 256, height: 192 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { id: string; images: string[]; timing: Record<string, number>; request: { success: boolean; data: { seed: number } } };
    expect(body.id).toMatch(/^generate-image-/);
    expect(body.images).toHaveLength(3);
    expect(Object.keys(body.timing).sort()).toEqual(['inferenceDuration', 'inferencePreprocessingTime', 'inferenceQueueTime', 'total']);
    expect(body.request.success).toBe(true);
    expect(body.request.data.seed).toBe(7);
    const first = Buffer.from(body.images[0]!, 'base64');
    expect(first.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(new Set(body.images).size).toBe(3);
  });

  it('returns raw bytes with image/<format> for return_binary, sized width × height', async () => {
    const res = await generate({ ...base, return_binary: true, format: 'png', width: 320, height: 200 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.readUInt32BE(16)).toBe(320);
    expect(bytes.readUInt32BE(20)).toBe(200);
  });

  it('maps aspect ratio and resolution tier to pixels for ratio models', async () => {
    const res = await generate({ model: 'nano-banana-2', prompt: 'p', aspect_ratio: '16:9', resolution: '2K', format: 'png', return_binary: true });
    const bytes = Buffer.from(await res.arrayBuffer());
    const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    expect(w / h).toBeCloseTo(16 / 9, 1);
    expect(w * h).toBeGreaterThan(2000 * 2000 * 0.9);
  });

  it('is deterministic for the same request and seed, and differs with the seed', async () => {
    const read = async (seed: number) => Buffer.from(await (await generate({ ...base, seed, return_binary: true })).arrayBuffer());
    const a = await read(1);
    expect((await read(1)).equals(a)).toBe(true);
    expect((await read(2)).equals(a)).toBe(false);
  });

  it('compresses JSON for Accept-Encoding gzip and br, never binary', async () => {
    for (const encoding of ['gzip', 'br'] as const) {
      const res = await fetch(`${sim.url}/image/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'accept-encoding': encoding },
        body: JSON.stringify(base),
      });
      expect(res.headers.get('content-encoding')).toBe(encoding);
      // fetch decodes transparently; the raw length proves the body really was compressed
      const json = (await res.json()) as { images: string[] };
      expect(json.images).toHaveLength(1);
    }
    const raw = await rawRequest({ ...base }, 'gzip');
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(raw.body).toString()).images).toHaveLength(1);
    const rawBr = await rawRequest({ ...base }, 'br');
    expect(JSON.parse(brotliDecompressSync(rawBr.body).toString()).images).toHaveLength(1);
    const binary = await rawRequest({ ...base, return_binary: true }, 'gzip, br');
    expect(binary.headers['content-encoding']).toBeUndefined();
  });

  it('sends the inference and image headers', async () => {
    sim.script({ rpm: 20 });
    const res = await generate({ ...base, return_binary: true });
    for (const name of ['cf-ray', 'x-venice-version', 'x-venice-balance-usd', 'x-venice-balance-diem', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests']) {
      expect(res.headers.get(name), name).toBeTruthy();
    }
    expect(res.headers.get('x-venice-is-blurred')).toBe('false');
    expect(res.headers.get('x-venice-is-content-violation')).toBe('false');
    expect(Number(res.headers.get('x-ratelimit-reset-requests'))).toBeGreaterThan(1e12);
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('19');
  });

  it('blurs on the blur trigger under safe mode and flags content violations without charging', async () => {
    const blurred = await generate({ ...base, prompt: `nsfw ${BLUR_TRIGGER}`, return_binary: true });
    expect(blurred.headers.get('x-venice-is-blurred')).toBe('true');
    const unsafe = await generate({ ...base, prompt: `nsfw ${BLUR_TRIGGER}`, safe_mode: false, return_binary: true });
    expect(unsafe.headers.get('x-venice-is-blurred')).toBe('false');
    const before = sim.behaviour.balanceUsd;
    const violation = await generate({ ...base, prompt: `bad ${VIOLATION_TRIGGER}`, return_binary: true, format: 'webp' });
    expect(violation.status).toBe(200);
    expect(violation.headers.get('x-venice-is-content-violation')).toBe('true');
    expect(violation.headers.get('content-type')).toBe('image/png');
    expect(sim.behaviour.balanceUsd).toBe(before);
  });
});

describe('POST /image/generate errors (§2.7)', () => {
  const cases: [string, unknown, number, RegExp | string][] = [
    ['unknown field', { ...base, negativePrompt: 'x' }, 400, /Unrecognized key\(s\) in object: 'negativePrompt'/],
    ['missing model', { prompt: 'x' }, 400, 'model is required'],
    ['non-string model', { model: 5, prompt: 'x' }, 400, 'model must be a string'],
    ['unknown model', { model: 'dall-e-9', prompt: 'x' }, 404, /Specified model not found/],
    ['retired model', { model: 'hidream', prompt: 'x' }, 404, /use qwen-image-2/],
    ['blank prompt', { ...base, prompt: '   ' }, 400, /Invalid request parameters/],
    ['prompt over the model limit', { model: 'venice-sd35', prompt: 'x'.repeat(1501) }, 400, /at most 1500/],
    ['resolution not offered', { model: 'gpt-image-2', prompt: 'x', resolution: '8K' }, 400, /Invalid request parameters/],
    ['quality not offered', { model: 'grok-imagine-image-2-0', prompt: 'x', quality: 'high' }, 400, /Invalid request parameters/],
    ['width on qwen-image', { model: 'qwen-image', prompt: 'x', width: 512 }, 400, /does not accept width/],
    ['width out of range', { ...base, width: 1281 }, 400, /Invalid request parameters/],
    ['steps over max', { model: 'venice-sd35', prompt: 'x', steps: 31 }, 400, /at most 30/],
    ['variants out of range', { ...base, variants: 5 }, 400, /Invalid request parameters/],
    ['variants with return_binary', { ...base, variants: 2, return_binary: true }, 400, /Invalid request parameters/],
    ['seed out of range', { ...base, seed: 1_000_000_000 }, 400, /Invalid request parameters/],
    ['cfg_scale out of range', { ...base, cfg_scale: 0 }, 400, /Invalid request parameters/],
    ['unknown style_preset', { ...base, style_preset: 'Oil Paint' }, 400, /Invalid style_preset/],
    ['deprecated inpaint', { ...base, inpaint: { strength: 50 } }, 400, /Invalid request parameters/],
    ['style references on an unsupported model', { ...base, style_references: [{ image: 'aGk=' }] }, 400, /does not support style_references/],
  ];
  it.each(cases)('%s', async (_name, body, status, message) => {
    const res = await generate(body);
    expect(res.status).toBe(status);
    const text = await res.text();
    if (typeof message === 'string') expect(JSON.parse(text).error).toBe(message);
    else expect(text).toMatch(message);
  });

  it('validation errors carry zod-style details and issues', async () => {
    const body = (await (await generate({ ...base, negativePrompt: 'x' })).json()) as { details: { _errors: string[] }; issues: { code: string; keys: string[] }[] };
    expect(body.details._errors[0]).toMatch(/negativePrompt/);
    expect(body.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['negativePrompt'] });
  });

  it('rejects a wrong content type and invalid JSON with 400', async () => {
    const wrongType = await generate(JSON.stringify(base), { headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: string }).error).toBe("'Content-Type' must be 'application/json'");
    const invalid = await generate('{"model":', {});
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toBe('Invalid JSON request');
  });

  it('answers no credentials with 402 and the x402 discovery body, a wrong key with 401', async () => {
    const none = await generate(base, { key: null });
    expect(none.status).toBe(402);
    expect(none.headers.get('payment-required')).toBeTruthy();
    const body = (await none.json()) as { x402Version: number; accepts: unknown[]; authOptions: { apiKey: { header: string } } };
    expect(body.x402Version).toBe(2);
    expect(body.accepts.length).toBeGreaterThan(0);
    expect(body.authOptions.apiKey.header).toBe('Authorization');
    const wrong = await generate(base, { key: 'not-a-key' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'Authentication failed' });
  });

  it('accepts a signed SIGN-IN-WITH-X wallet header (it wins over a key), charges the wallet, and refuses a malformed one with 401', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    sim.script({ walletBalances: { [account.address]: 1 } });
    const signIn = async () => {
      const message = createSiweMessage({ domain: 'api.venice.ai', address: account.address, uri: 'https://api.venice.ai', version: '1', chainId: 8453, nonce: generateSiweNonce(), issuedAt: new Date() });
      return Buffer.from(JSON.stringify({ address: account.address, message, signature: await account.signMessage({ message }) })).toString('base64');
    };
    const wallet = await generate({ ...base, return_binary: true }, { key: null, headers: { 'sign-in-with-x': await signIn() } });
    expect(wallet.status).toBe(200);
    expect(Number(wallet.headers.get('x-balance-remaining'))).toBeLessThan(1);
    const both = await generate({ ...base, return_binary: true }, { key: 'not-a-key', headers: { 'sign-in-with-x': await signIn() } });
    expect(both.status).toBe(200);
    const legacy = await generate({ ...base, return_binary: true }, { key: null, headers: { 'x-sign-in-with-x': await signIn() } });
    expect(legacy.status).toBe(200);
    for (const [value, code] of [
      ['not base64 json', 'X402_SIGN_IN_MALFORMED'],
      [Buffer.from(JSON.stringify({ address: '0xaa', message: 'm' })).toString('base64'), 'X402_SIGN_IN_INVALID_SIGNATURE'],
    ] as const) {
      const bad = await generate(base, { key: null, headers: { 'sign-in-with-x': value } });
      expect(bad.status).toBe(401);
      expect(((await bad.json()) as { code: string }).code).toBe(code);
    }
    // the log never keeps the wallet header, only the address and nonce it was verified with
    expect(sim.requests.every((r) => r.headers['sign-in-with-x'] === undefined || r.headers['sign-in-with-x'] === '[redacted]')).toBe(true);
    expect(sim.requests.filter((r) => r.signIn?.address === account.address.toLowerCase())).toHaveLength(3);
  });

  it('answers a wallet without credit 402 with the balance, the minimum and the top-up', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = createSiweMessage({ domain: 'api.venice.ai', address: account.address, uri: 'https://api.venice.ai', version: '1', chainId: 8453, nonce: generateSiweNonce(), issuedAt: new Date() });
    const value = Buffer.from(JSON.stringify({ address: account.address, message, signature: await account.signMessage({ message }) })).toString('base64');
    const res = await generate({ ...base, return_binary: true }, { key: null, headers: { 'sign-in-with-x': value } });
    expect(res.status).toBe(402);
    expect(res.headers.get('payment-required')).toBeTruthy();
    expect(await res.json()).toMatchObject({ code: 'PAYMENT_REQUIRED', reason: 'insufficient_balance', currentBalanceUsd: 0, minimumBalanceUsd: 0.1, minimumTopUpUsd: 5 });
  });

  it('answers 403 when a private-only key asks for an anonymized model', async () => {
    const res = await generate({ model: 'flux-2-pro', prompt: 'x' }, { key: 'private-only-key' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/is an Anonymous model/);
    expect((await generate({ ...base, return_binary: true }, { key: 'private-only-key' })).status).toBe(200);
  });

  it('answers 422 for a style reference over 8 MB', async () => {
    const image = Buffer.alloc(8 * 1024 * 1024 + 10).toString('base64');
    const res = await generate({ model: 'krea-v2-medium', prompt: 'x', style_references: [{ image }] });
    expect(res.status).toBe(422);
  });

  it('adds the configured latency to image requests', async () => {
    sim.script({ latencyMs: 300 });
    const started = Date.now();
    await (await generate({ ...base, return_binary: true })).arrayBuffer();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('answers 402 with the balance message once the balance runs out', async () => {
    sim.script({ balanceUsd: 0.015 });
    expect((await generate({ ...base, return_binary: true })).status).toBe(200);
    const broke = await generate({ ...base, return_binary: true });
    expect(broke.status).toBe(402);
    expect(((await broke.json()) as { error: string }).error).toMatch(/Insufficient USD or Diem balance/);
  });

  it('limits requests per minute per key and model, counting variants', async () => {
    sim.script({ rpm: 3 });
    expect((await generate({ ...base, variants: 2 })).status).toBe(200);
    expect((await generate({ ...base, return_binary: true })).status).toBe(200);
    const limited = await generate({ ...base, return_binary: true });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(await limited.json()).toEqual({ error: 'Rate limit exceeded' });
    // another model has its own window
    expect((await generate({ model: 'chroma', prompt: 'x', return_binary: true })).status).toBe(200);
  });

  it('scripts overload (429 + Retry-After), 500 and 503 bursts', async () => {
    sim.script({ overloadNext: { count: 1, retryAfterSeconds: 7 } });
    sim.script({ failNext: { count: 1, status: 500 } });
    sim.script({ failNext: { count: 1, status: 503 } });
    const overloaded = await generate(base);
    expect(overloaded.status).toBe(429);
    expect(overloaded.headers.get('retry-after')).toBe('7');
    const failed = await generate(base);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'Inference processing failed' });
    const busy = await generate(base);
    expect(busy.status).toBe(503);
    expect(await busy.json()).toEqual({ error: 'The model is at capacity. Please try again later.' });
    expect((await generate(base)).status).toBe(200);
  });

  it('drops the connection mid-body on request', async () => {
    sim.script({ dropNext: { count: 1 } });
    const res = await generate({ ...base, return_binary: true });
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('locks a key and model out after more than 50 failed requests in 30 s', async () => {
    for (let i = 0; i < 51; i++) await generate({ ...base, width: 5000 });
    const blocked = await generate(base);
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { error: string }).error).toMatch(/Too many failed attempts \(> 50\)/);
  });

  it('records every request with the key redacted', async () => {
    await generate(base);
    const recorded = sim.requests.at(-1)!;
    expect(recorded.headers.authorization).toBe('Bearer [redacted]');
    expect(JSON.stringify(sim.requests)).not.toContain(KEY);
    expect(recorded.body).toEqual(base);
  });
});

describe('other routes', () => {
  it('GET /image/styles is public and an envelope', async () => {
    const body = (await (await fetch(`${sim.url}/image/styles`)).json()) as { object: string; data: string[] };
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(76);
    expect(body.data).toContain('Pixel Art');
  });

  it('GET /models?type=image lists image models with model_spec; no type means text', async () => {
    const body = (await (await fetch(`${sim.url}/models?type=image`)).json()) as { object: string; type: string; data: { id: string; object: string; owned_by: string; model_spec: { pricing: unknown; constraints: unknown } }[] };
    expect(body).toMatchObject({ object: 'list', type: 'image' });
    const gpt = body.data.find((m) => m.id === 'gpt-image-2')!;
    expect(gpt).toMatchObject({ object: 'model', owned_by: 'venice.ai' });
    expect(gpt.model_spec.constraints).toMatchObject({ resolutions: ['1K', '2K', '4K'] });
    const text = (await (await fetch(`${sim.url}/models`)).json()) as { type: string; data: unknown[] };
    expect(text.type).toBe('text');
    expect((await fetch(`${sim.url}/models?type=pictures`)).status).toBe(400);
  });

  it('GET /models/traits maps traits to models; compatibility_mapping is an empty map', async () => {
    const traits = (await (await fetch(`${sim.url}/models/traits?type=image`)).json()) as { data: Record<string, string> };
    expect(traits.data.default).toBe('z-image-turbo');
    const mapping = (await (await fetch(`${sim.url}/models/compatibility_mapping?type=image`)).json()) as { data: object };
    expect(mapping.data).toEqual({});
    expect((await fetch(`${sim.url}/models/compatibility_mapping?type=all`)).status).toBe(400);
  });

  it('POST /images/generations answers the OpenAI shape, falls back to the default model, refuses safe_mode', async () => {
    const post = (body: unknown) =>
      fetch(`${sim.url}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = (await (await post({ model: 'dall-e-3', prompt: 'a cat' })).json()) as { created: number; data: { b64_json: string }[] };
    expect(Number.isInteger(ok.created)).toBe(true);
    expect(Buffer.from(ok.data[0]!.b64_json, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const url = (await (await post({ model: 'z-image-turbo', prompt: 'a cat', response_format: 'url' })).json()) as { data: { url: string }[] };
    expect(url.data[0]!.url).toMatch(/^data:image\/png;base64,/);
    const refused = await post({ model: 'z-image-turbo', prompt: 'a cat', safe_mode: true });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Unrecognized key(s) in object: 'safe_mode'");
    expect((await post({ model: 'z-image-turbo', prompt: 'a cat', n: 2 })).status).toBe(400);
  });
});

describe('command line', () => {
  it('prints its base URL first, serves requests with the given key, and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const bin = new URL('../dist/cli.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, '--port', '0', '--key', 'cli-key', '--rpm', '5', '--latency-ms', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\n')[0]!)));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    const res = await fetch(`${url}/image/generate`, { method: 'POST', headers: { authorization: 'Bearer cli-key', 'content-type': 'application/json' }, body: JSON.stringify({ ...base, return_binary: true }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('5');
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });
});

async function rawRequest(body: unknown, acceptEncoding: string): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:http');
  const url = new URL(`${sim.url}/image/generate`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
