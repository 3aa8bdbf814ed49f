/** The Venice client over real HTTP against the local Venice-compatible server. */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BLUR_TRIGGER, VIOLATION_TRIGGER, startVeniceSim, type VeniceSim } from 'venice-sim';
import { CacheStore, ImagePromptError, VeniceClient, silentLogger, type NormalisedRequest } from '../../src/index.js';

const KEY = `test-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 24)}`;
let sim: VeniceSim;
let dir: string;
let store: CacheStore;

beforeAll(async () => {
  sim = await startVeniceSim({ keys: [KEY], rpm: 0 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.script({ clearFaults: true, clearRequests: true, resetLimits: true, rpm: 0, latencyMs: 0, balanceUsd: 1000 });
  dir = await mkdtemp(join(tmpdir(), 'imageprompt-client-'));
  store = new CacheStore(dir, silentLogger);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const request: NormalisedRequest = {
  model: 'z-image-turbo',
  prompt: 'a lighthouse',
  format: 'webp',
  variants: 1,
  seed: 11,
  width: 320,
  height: 240,
  safe_mode: true,
  hide_watermark: false,
  embed_exif_metadata: false,
  enable_web_search: false,
  enhance_prompt: false,
};

const fastRetry = { baseDelayMs: 20, maxBackoffMs: 50 };
const client = (options: Partial<ConstructorParameters<typeof VeniceClient>[0]> = {}) =>
  new VeniceClient({ apiKey: KEY, baseURL: sim.url, retry: fastRetry, ...options });

async function servedBytes(body: object): Promise<Buffer> {
  const res = await fetch(`${sim.url}/image/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return Buffer.from(await res.arrayBuffer());
}

async function tempFiles(): Promise<string[]> {
  return (await readdir(join(dir, 'blobs')).catch(() => [])).filter((f) => f.startsWith('.tmp-'));
}

describe('VeniceClient', () => {
  it('streams a single image as binary, with the key only in the Authorization header', async () => {
    const result = await client().generate(request, store);
    const [sent] = sim.imageRequests();
    expect(sent!.headers.authorization).toBe('Bearer [redacted]');
    expect(sent!.headers['accept-encoding']).toBe('identity');
    expect(sent!.body).toMatchObject({ return_binary: true, seed: 11, width: 320 });
    expect(sent!.body).not.toHaveProperty('variants');
    expect(JSON.stringify(sent!.body)).not.toContain(KEY);
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ format: 'webp', width: 320, height: 240 });
    const staged = await readFile(result.images[0]!.staged.tempPath);
    const { variants: _v, ...binaryBody } = request;
    expect(staged.equals(await servedBytes({ ...binaryBody, return_binary: true }))).toBe(true);
    expect(result.cfRay).toMatch(/-SIM$/);
  });

  it('asks for JSON with gzip and br for several variants and decodes every image', async () => {
    const result = await client().generate({ ...request, variants: 3, format: 'png' }, store);
    const [sent] = sim.imageRequests();
    expect(sent!.headers['accept-encoding']).toBe('gzip, br');
    expect(sent!.body).toMatchObject({ return_binary: false, variants: 3 });
    expect(result.id).toMatch(/^generate-image-/);
    expect(result.timing).toHaveProperty('total');
    expect(result.images.map((i) => i.format)).toEqual(['png', 'png', 'png']);
    expect(new Set(result.images.map((i) => i.staged.digest)).size).toBe(3);
  });

  it('waits out Retry-After on a 429 before sending again', async () => {
    sim.script({ overloadNext: { count: 1, retryAfterSeconds: 1 } });
    const retries: number[] = [];
    await client().generate(request, store, { onRetry: (n) => retries.push(n.delayMs) });
    const [first, second] = sim.imageRequests();
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(200);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(retries[0]).toBeGreaterThanOrEqual(1000);
  });

  it('waits for the rate-limit reset instead of collecting 429s once the window is spent', async () => {
    sim.script({ rpm: 2 });
    const c = client();
    await c.generate(request, store);
    await c.generate({ ...request, seed: 12 }, store);
    // the window is spent: the pacer must hold the third request until the reset (about a minute);
    // prove it by racing it against a short timer
    const third = c.generate({ ...request, seed: 13 }, store).then(() => 'sent');
    const raced = await Promise.race([third, new Promise((r) => setTimeout(() => r('held'), 500))]);
    expect(raced, JSON.stringify(sim.imageRequests().map((r) => [r.status, (r.body as { seed: number }).seed]))).toBe('held');
    expect(sim.imageRequests().filter((r) => r.status === 429)).toHaveLength(0);
    sim.script({ resetLimits: true, rpm: 0 });
  });

  it('retries bursts of 500 and 503 and then succeeds, reporting each retry', async () => {
    sim.script({ failNext: { count: 2, status: 500 } });
    sim.script({ failNext: { count: 1, status: 503 } });
    const reasons: string[] = [];
    const result = await client().generate(request, store, { onRetry: (n) => reasons.push(n.reason) });
    expect(result.attempts).toBe(4);
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toContain('Inference processing failed');
    expect(reasons[2]).toContain('The model is at capacity');
  });

  it('gives up after the configured number of attempts', async () => {
    sim.script({ failNext: { count: 10, status: 503 } });
    await expect(client({ retry: { ...fastRetry, maxAttempts: 3 } }).generate(request, store)).rejects.toThrow(/Venice answered 503/);
    expect(sim.imageRequests()).toHaveLength(3);
  });

  it.each([
    [401, { apiKey: 'wrong-key' }, {}, /Authentication failed[\s\S]*check the API key/],
    [402, {}, { balanceUsd: 0 }, /Insufficient USD or Diem balance[\s\S]*add credits/],
  ])('fails fast on %i with Venice’s message and the action to take', async (status, options, control, message) => {
    sim.script(control);
    const error = await client(options).generate(request, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePromptError);
    expect((error as ImagePromptError).status).toBe(status);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(KEY);
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('fails fast on 400 naming the field, and on 404 for an unknown model', async () => {
    const bad = await client().generate({ ...request, style_preset: 'Oil Paint' }, store).catch((e: Error) => e);
    expect(bad.message).toMatch(/Venice answered 400: "Invalid style_preset 'Oil Paint'/);
    const missing = await client().generate({ ...request, model: 'no-such-model' }, store).catch((e: Error) => e);
    expect(missing.message).toMatch(/Venice answered 404[\s\S]*check "model"/);
    expect(sim.imageRequests()).toHaveLength(2);
  });

  it('fails a content violation and keeps nothing', async () => {
    const error = await client().generate({ ...request, prompt: `x ${VIOLATION_TRIGGER}` }, store).catch((e: ImagePromptError) => e);
    expect(error.code).toBe('CONTENT_VIOLATION');
    expect(await tempFiles()).toEqual([]);
  });

  it('fails a blurred image with a hint, unless blurred images are accepted', async () => {
    const error = await client().generate({ ...request, prompt: `x ${BLUR_TRIGGER}` }, store).catch((e: ImagePromptError) => e);
    expect(error.code).toBe('BLURRED');
    expect(error.hint).toMatch(/safe_mode/);
    const result = await client({ acceptBlurred: true }).generate({ ...request, prompt: `x ${BLUR_TRIGGER}` }, store);
    expect(result.blurred).toBe(true);
  });

  it.each(['truncated-base64', 'invalid-base64', 'wrong-format', 'wrong-content-type'] as const)(
    'retries a %s answer (JSON) and keeps nothing of it',
    async (kind) => {
      sim.script({ corruptNext: { count: 1, kind } });
      const result = await client().generate({ ...request, variants: 2 }, store);
      expect(result.attempts).toBe(2);
      expect((await tempFiles()).length).toBe(2);
      await store.discard(result.images.map((i) => i.staged));
      expect(await tempFiles()).toEqual([]);
    },
  );

  it.each(['truncated-base64', 'wrong-format', 'wrong-content-type'] as const)('retries a %s answer (binary)', async (kind) => {
    sim.script({ corruptNext: { count: 1, kind } });
    const result = await client().generate(request, store);
    expect(result.attempts).toBe(2);
    expect(await tempFiles()).toHaveLength(1);
  });

  it('retries a connection dropped mid-body', async () => {
    sim.script({ dropNext: { count: 1 } });
    const result = await client().generate(request, store);
    expect(result.attempts).toBe(2);
    expect(await tempFiles()).toHaveLength(1);
  });

  it('times out a request that hangs, then retries', async () => {
    sim.script({ hangNext: { count: 1 } });
    const result = await client({ timeoutMs: 300 }).generate(request, store);
    expect(result.attempts).toBe(2);
  });

  it('stops after a lockout 429 instead of hammering', async () => {
    for (let i = 0; i < 51; i++) await servedBytes({ ...request, width: 5000 });
    sim.script({ clearRequests: true });
    const error = await client({ retry: { ...fastRetry, maxWaitMs: 5000 } }).generate(request, store).catch((e: Error) => e);
    expect(error.message).toMatch(/Too many failed attempts[\s\S]*wait 30 s/);
    expect(sim.imageRequests()).toHaveLength(1);
  });
});

describe('a server that lies', () => {
  /** A Venice-shaped server of the test's own: each request gets the answer the test set. */
  let answer: (req: IncomingMessage, res: ServerResponse) => void;
  let liar: Server;
  let liarUrl: string;
  const rogueHits: string[] = [];
  let rogue: Server;
  let rogueUrl: string;
  beforeAll(async () => {
    liar = createServer((req, res) => answer(req, res));
    rogue = createServer((req, res) => {
      rogueHits.push(`${req.method} ${JSON.stringify(req.headers)}`);
      res.end();
    });
    await Promise.all([liar, rogue].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
    liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/api/v1`;
    rogueUrl = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
  });
  afterAll(() => Promise.all([liar, rogue].map((s) => new Promise((resolve) => s.close(resolve)))));
  const liarClient = (label?: string) => client({ baseURL: liarUrl, retry: { ...fastRetry, maxAttempts: 1 }, ...(label ? { label } : {}) });
  /** A PNG of 128 bytes whose header says it is `width` × `height`. */
  const pngClaiming = (width: number, height: number) => {
    const bytes = Buffer.alloc(128);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(bytes);
    bytes.write('IHDR', 12, 'latin1');
    bytes.writeUInt32BE(width, 16);
    bytes.writeUInt32BE(height, 20);
    bytes.write('IEND', 128 - 8, 'latin1');
    return bytes;
  };

  it('an image whose pixel size is not what was asked is refused and not staged: a 128-byte PNG declaring 50000×50000', async () => {
    for (const [width, height, problem] of [
      [50_000, 50_000, /declares 50000×50000 pixels, more than any Venice route returns/],
      [64, 64, /it is 64×64 where 320×240 was asked for/],
    ] as const) {
      answer = (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(pngClaiming(width, height));
      const error = await liarClient().generate({ ...request, format: 'png' }, store).catch((e: ImagePromptError) => e);
      expect(error).toBeInstanceOf(ImagePromptError);
      expect((error as ImagePromptError).code).toBe('BAD_IMAGE');
      expect((error as Error).message).toMatch(problem);
      expect(await readdir(join(dir, 'blobs')).catch(() => [])).toEqual([]);
    }
  });

  it('an image body past what the request can weigh is cut off there, not written in full', async () => {
    let sent = 0;
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/webp' });
      const chunk = Buffer.alloc(64 * 1024);
      const more = () => {
        // far past 320×240×8 bytes + 1 MB; stops by itself if nobody reads
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) res.once('drain', more);
        else res.end();
      };
      more();
    };
    const error = await liarClient().generate(request, store).catch((e: Error) => e);
    expect(error.message).toMatch(/is larger than \d+ bytes; it was cut off there/);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(await tempFiles()).toEqual([]);
  });

  it("an error's words are shown without escape sequences, the key masked, bounded, from an endless body, and named by who said them", async () => {
    answer = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ error: `\u001b[2J\u001b[31mbad key ${KEY}\u001b[0m\r\nX-Evil: 1 ${'y'.repeat(500)}` }));
      // then never ends: only the first kilobytes are read
      const timer = setInterval(() => res.write(' '.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    };
    const error = (await liarClient('provider "acme"').generate(request, store).catch((e: Error) => e)) as ImagePromptError;
    expect(error.message).toMatch(/^provider "acme" answered 400: "bad key \[redacted\] X-Evil: 1 y+…"/);
    expect(error.message).not.toMatch(/\u001b|\r|\n.*X-Evil/);
    expect(error.message).not.toContain(KEY);
    expect(error.message.split('\n')[0]!.length).toBeLessThan(400);
  });

  it('a redirect is not followed: the key never reaches the address it points to', async () => {
    answer = (_req, res) => res.writeHead(307, { location: `${rogueUrl}/api/v1/image/generate` }).end();
    const error = (await liarClient().generate(request, store).catch((e: Error) => e)) as ImagePromptError;
    expect(error.message).toMatch(/answered 307, a redirect, which is not followed/);
    expect(rogueHits).toEqual([]);
  });

  it('a key is never sent over plain http:// to another host: refused before any request', () => {
    expect(() => client({ baseURL: 'http://venice.example.invalid/api/v1' })).toThrow(/the API key would be sent over plain http:\/\/ to venice\.example\.invalid/);
    expect(() => client({ apiKey: undefined, siwx: 'signed-value', baseURL: 'http://10.0.0.1/api/v1' })).toThrow(/the wallet sign-in would be sent over plain http:\/\//);
  });
});
