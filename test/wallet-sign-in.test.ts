/**
 * Paying with an x402 wallet: `VENICE_SIWX` holds a SIGN-IN-WITH-X value that is sent instead of
 * a key, treated as a secret, and Venice's wallet answers become errors that say what to do.
 * The local Venice-compatible server checks the value's shape, as far as it can without a chain.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, silentLogger, type ImagePromptError } from 'imageprompt';
import { copyFixture, filesContaining, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

const KEY = secretKey();
const bin = binOf('imageprompt', 'dist/cli/main.js');
let sim: VeniceSim;
let root: string;

/** A signed sign-in as a wallet would make it: base64 JSON of address, message and signature. */
const signIn = () =>
  Buffer.from(
    JSON.stringify({ address: '0x00000000000000000000000000000000000000aa', message: `Sign in to Venice AI ${randomBytes(6).toString('hex')}`, signature: `0x${randomBytes(32).toString('hex')}` }),
  ).toString('base64');

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  return () => removeFixture(root);
});

describe('VENICE_SIWX', () => {
  it('is sent as SIGN-IN-WITH-X instead of a key, and appears in no output, cache file or log', async () => {
    const siwx = signIn();
    const result = await runNode([bin, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_SIWX: siwx } });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/4 generated/);
    const requests = sim.imageRequests();
    expect(requests).toHaveLength(4);
    for (const r of requests) {
      expect(r.headers['sign-in-with-x']).toBe('[redacted]');
      expect(r.headers.authorization).toBeUndefined();
    }
    expect(result.output).not.toContain(siwx);
    expect(await filesContaining(root, siwx)).toEqual([]);
  });

  it('a value Venice refuses is an error about the wallet sign-in, not the key, and is not shown', async () => {
    const malformed = Buffer.from('{"address":"0xaa"}').toString('base64');
    const engine = new ImagePromptEngine({ root, siwx: malformed, baseURL: sim.url, logger: silentLogger });
    const error = (await engine.load(join(root, 'src', 'p1.imageprompt.json')).catch((e: unknown) => e)) as ImagePromptError;
    expect(error.message).toMatch(/Venice refused the wallet sign-in \(X402_SIGN_IN_INVALID_SIGNATURE\)/);
    expect(error.hint).toMatch(/sign a fresh SIGN-IN-WITH-X value .* VENICE_SIWX, or use an API key in VENICE_API_KEY/);
    expect(error.message + error.hint).not.toContain(malformed);
    // refused once, not retried
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('a 402 asking for payment names both ways to pay', async () => {
    // a proxy that loses the credentials on the way, as a misconfigured gateway would
    const target = new URL(sim.url);
    const proxy: Server = createServer((req, res) => {
      const { authorization: _a, 'sign-in-with-x': _s, ...headers } = req.headers;
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/api/v1`;
      const engine = new ImagePromptEngine({ root, apiKey: KEY, baseURL: url, logger: silentLogger });
      const error = (await engine.load(join(root, 'src', 'p1.imageprompt.json')).catch((e: unknown) => e)) as ImagePromptError;
      expect(error.message).toMatch(/Venice answered 402: no credentials it accepts were sent, so it asks for payment/);
      expect(error.hint).toMatch(/set VENICE_API_KEY to an API key .*, or VENICE_SIWX to a SIGN-IN-WITH-X value signed by an x402 wallet/);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('a malformed value is refused before any request, without being shown', async () => {
    const value = `${signIn()}\n`;
    const result = await runNode([bin, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_SIWX: value } });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/VENICE_SIWX holds a line break at position \d+ of \d+, which cannot be sent in an HTTP header \(the sign-in is not shown\)/);
    expect(result.output).not.toContain(value.trim().slice(10, 40));
    expect(sim.imageRequests()).toHaveLength(0);
  });
});
