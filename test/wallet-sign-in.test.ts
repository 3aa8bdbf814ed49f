/**
 * Paying with an x402 wallet. `VENICE_WALLET_PRIVATE_KEY` signs a fresh SIGN-IN-WITH-X (EIP-4361,
 * Base) for every attempt, retries included; the local Venice-compatible server verifies each
 * signature for real, refuses reused nonces and stale, future, foreign-domain or foreign-chain
 * messages with Venice's codes, keeps the wallet's balance and charges it per image, allows five
 * requests in flight per wallet, and answers 402 with Venice's body when the balance runs out.
 * `VENICE_SIWX` (one value signed elsewhere) pays for one request. No secret appears anywhere.
 */
import { createServer, request, type Server } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { createSiweMessage, generateSiweNonce } from 'viem/siwe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, silentLogger, type ImagePromptError } from 'imageprompt';
import { REPO_DIR, copyFixture, filesContaining, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const CLI = commandOf('imageprompt');
const VITE = binOf('vite', 'bin/vite.js');
let sim: VeniceSim;
let root: string;
let walletKey: `0x${string}`;
let wallet: PrivateKeyAccount;

/** z-image-turbo's price per image in the simulator's catalog (Venice's snapshot). */
async function imagePrice(): Promise<number> {
  const catalog = JSON.parse(await readFile(join(REPO_DIR, 'packages/venice-sim/data/image-models.json'), 'utf8')) as { id: string; model_spec: { pricing: { generation: { usd: number } } } }[];
  return catalog.find((m) => m.id === 'z-image-turbo')!.model_spec.pricing.generation.usd;
}

/** A SIGN-IN-WITH-X value as a wallet makes it, with any field of the message changed. */
async function signIn(account: PrivateKeyAccount, change: Partial<Parameters<typeof createSiweMessage>[0]> = {}, address: string = account.address): Promise<string> {
  const issuedAt = new Date();
  const message = createSiweMessage({
    domain: 'api.venice.ai',
    address: account.address,
    statement: 'Sign in to Venice AI',
    uri: 'https://api.venice.ai',
    version: '1',
    chainId: 8453,
    nonce: generateSiweNonce(),
    issuedAt,
    ...change,
  });
  const signature = await account.signMessage({ message });
  return Buffer.from(JSON.stringify({ address, message, signature, timestamp: issuedAt.getTime(), chainId: 8453 })).toString('base64');
}

/** One image request to the simulator with the given sign-in: its status and Venice's code. */
async function sendWith(value: string): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${sim.url}/image/generate`, {
    method: 'POST',
    headers: { 'SIGN-IN-WITH-X': value, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'z-image-turbo', prompt: 'a sign-in check', width: 256, height: 256 }),
  });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code };
}

/** Prompt files p1 … pN (the fixture has four) and a main module importing them all. */
async function promptFiles(n: number): Promise<void> {
  const imports: string[] = [];
  for (let i = 1; i <= n; i++) {
    await writeFile(join(root, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `wallet picture ${i}`, width: 256, height: 256 }));
    imports.push(`import p${i} from './p${i}.imageprompt.json?imageprompt';`);
  }
  await writeFile(join(root, 'src', 'main.js'), `${imports.join('\n')}\nglobalThis.__imageprompt = [${Array.from({ length: n }, (_, i) => `p${i + 1}`).join(', ')}];\n`);
}

/** Every form of the wallet's secret that could leak: as given, and its hex digits alone. */
const secretForms = () => [walletKey, walletKey.slice(2), walletKey.slice(2).toUpperCase()];

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  walletKey = generatePrivateKey();
  wallet = privateKeyToAccount(walletKey);
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0, walletBalances: { [wallet.address]: 10 } });
  return () => removeFixture(root);
});

describe('VENICE_WALLET_PRIVATE_KEY', () => {
  it('pays a Vite build of 10 misses with 10 signed requests, a fresh nonce for every attempt, at most 5 in flight', async () => {
    await promptFiles(10);
    await writeFile(join(root, 'vite.config.mjs'), "import imageprompt from 'unplugin-imageprompt/vite';\nexport default { plugins: [imageprompt({ concurrency: 8 })] };\n");
    // two attempts fail with a 500 and are retried; every answer waits until the test has seen five held
    sim.script({ failNext: { count: 2, status: 500 }, hold: true });
    const build = runNode([VITE, 'build', '--configLoader', 'native'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_WALLET_PRIVATE_KEY: walletKey } });
    while (sim.heldRequests() < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    // room for a sixth request to arrive, were one sent: the simulator would refuse it with 429
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim.heldRequests()).toBe(5);
    sim.script({ release: true });
    const result = await build;
    expect(result.code, result.output).toBe(0);

    const attempts = sim.imageRequests();
    const answered = attempts.filter((r) => r.status === 200);
    expect(answered).toHaveLength(10);
    expect(attempts.filter((r) => r.status === 500)).toHaveLength(2);
    expect(attempts.filter((r) => r.status === 429)).toEqual([]);
    const nonces = attempts.map((r) => r.signIn?.nonce);
    // 16 hex digits, as Venice's docs and its own client make them
    expect(nonces.every((nonce) => /^[0-9a-f]{16}$/.test(nonce ?? ''))).toBe(true);
    expect(new Set(nonces).size).toBe(attempts.length);
    for (const r of attempts) {
      expect(r.signIn?.address).toBe(wallet.address.toLowerCase());
      expect(r.headers['sign-in-with-x']).toBe('[redacted]');
      expect(r.headers.authorization).toBeUndefined();
    }
    // paid once per image: the balance fell by ten images' price
    const balance = 10 - 10 * (await imagePrice());
    expect(result.output).toContain(`the wallet has $${balance.toFixed(6)} left on Venice`);
    for (const secret of secretForms()) {
      expect(result.output).not.toContain(secret);
      expect(await filesContaining(root, secret)).toEqual([]);
    }
  });

  it('the command says which wallet paid and what it has left', async () => {
    const result = await runNode([CLI, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_WALLET_PRIVATE_KEY: walletKey } });
    expect(result.code, result.output).toBe(0);
    const left = (10 - 4 * (await imagePrice())).toFixed(6);
    expect(result.output).toMatch(new RegExp(`4 generated, .*; paid with the wallet ${wallet.address}, which has \\$${left.replace('.', '\\.')} left on Venice`));
    for (const secret of secretForms()) expect(result.output).not.toContain(secret);
  });

  it("plan reads the wallet's credit and says whether it covers the plan, spending nothing", async () => {
    const plan = (json = false) => runNode([CLI, 'plan', ...(json ? ['--json'] : [])], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_WALLET_PRIVATE_KEY: walletKey } });
    const enough = await plan();
    expect(enough.code, enough.output).toBe(0);
    expect(enough.output).toContain(`the wallet ${wallet.address} has $10 on Venice, enough for this plan`);
    sim.script({ walletBalances: { [wallet.address]: 0.02 } });
    const short = await plan();
    expect(short.output).toMatch(new RegExp(`the wallet ${wallet.address} has \\$0\\.02 on Venice, less than this plan's estimated \\$0\\.04: top up before \`imageprompt generate\``));
    const json = JSON.parse((await plan(true)).output) as { wallet: { address: string; balanceUsd: number } };
    expect(json.wallet).toEqual({ address: wallet.address, balanceUsd: 0.02 });
    expect(sim.imageRequests()).toHaveLength(0);
    // the balance is the signed-in wallet's own: not a key's, not another wallet's
    const other = privateKeyToAccount(generatePrivateKey());
    const asked = (headers: Record<string, string>) => fetch(`${sim.url}/x402/balance/${wallet.address}`, { headers }).then((r) => r.status);
    expect(await asked({ authorization: `Bearer ${KEY}` })).toBe(401);
    expect(await asked({ 'SIGN-IN-WITH-X': await signIn(other) })).toBe(403);
    expect(await asked({ 'SIGN-IN-WITH-X': await signIn(wallet) })).toBe(200);
    for (const secret of secretForms()) expect(enough.output + short.output).not.toContain(secret);
  });

  it('stops at a 402 for want of credit with the balance, the minimum and where to top up, sending nothing more', async () => {
    sim.script({ walletBalances: { [wallet.address]: 0.05 } });
    const result = await runNode([CLI, 'generate', '--concurrency', '1'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_WALLET_PRIVATE_KEY: walletKey } });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`the wallet ${wallet.address} has $0.05 of credit on Venice, less than the $0.10 each request needs`);
    expect(result.output).toMatch(/top up the wallet with at least \$5\.00 \(Venice suggests \$10\.00\) in USDC on base or solana \(POST https:\/\/api\.venice\.ai\/api\/v1\/x402\/top-up/);
    expect(result.output).toMatch(/not sent: an earlier request with the wallet 0x[0-9a-fA-F]{40} was refused/);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(sim.imageRequests()[0]!.status).toBe(402);
    for (const secret of secretForms()) expect(result.output).not.toContain(secret);
  });

  it('waits out a 429 X402_CONCURRENCY_LIMIT caused by another process with the same wallet, without counting it as a failure', async () => {
    // another process: five requests of the same wallet held by Venice
    sim.script({ hold: true });
    const others = Array.from({ length: 5 }, async () => sendWith(await signIn(wallet)));
    while (sim.heldRequests() < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    const engine = new ImagePromptEngine({ root, walletPrivateKey: walletKey, baseURL: sim.url, logger: silentLogger, retry: { maxAttempts: 1 } });
    const loading = engine.load(join(root, 'src', 'p1.imageprompt.json'));
    while (!sim.requests.some((r) => r.status === 429)) await new Promise((resolve) => setTimeout(resolve, 20));
    sim.script({ release: true });
    // one attempt allowed, yet the image comes: the waits were not attempts
    const loaded = await loading;
    expect(loaded.status).toBe('generated');
    await Promise.all(others);
    const sent = sim.requests.filter((r) => r.path.endsWith('/image/generate'));
    expect(sent.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(sent.filter((r) => r.status === 200)).toHaveLength(6);
    expect(new Set(sent.map((r) => r.signIn?.nonce).filter(Boolean)).size).toBe(sent.length);
  });

  it('a malformed key is refused before any request, by what it looks like, never shown', async () => {
    const hex = walletKey.slice(2);
    const cases: [string, RegExp][] = [
      [`0x${hex.slice(0, 63)}`, /is not an EVM private key \(65 characters, where 64 hexadecimal digits are expected\)/],
      ['4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw9ayKpNkJYsRcvgHWyKn5dvb3gmDTY7ADK2zgqXjUAsYRq', /looks like a Solana key; imageprompt signs in with EVM wallets \(Base\) only/],
      ['abandon ability able about above absent absorb abstract absurd abuse access accident', /looks like a recovery phrase, not a private key/],
      [wallet.address, /looks like a wallet address, not its private key/],
    ];
    for (const [value, expected] of cases) {
      const result = await runNode([CLI, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_WALLET_PRIVATE_KEY: value } });
      expect(result.code, result.output).toBe(2);
      expect(result.output).toMatch(/VENICE_WALLET_PRIVATE_KEY /);
      expect(result.output).toMatch(expected);
      expect(result.output).not.toContain(value.slice(2, 30));
    }
    expect(sim.imageRequests()).toHaveLength(0);
  });
});

describe("the simulator checks sign-ins as Venice does", () => {
  it('verifies the signature and refuses a reused nonce, a stale, future, foreign-domain or foreign-chain message with its code', async () => {
    const once = await signIn(wallet);
    expect(await sendWith(once)).toEqual({ status: 200 });
    expect(await sendWith(once)).toEqual({ status: 401, code: 'X402_SIGN_IN_NONCE_REUSED' });
    expect(await sendWith(await signIn(wallet, { issuedAt: new Date(Date.now() - 6 * 60_000) }))).toEqual({ status: 401, code: 'X402_SIGN_IN_EXPIRED' });
    expect(await sendWith(await signIn(wallet, { issuedAt: new Date(Date.now() + 5 * 60_000) }))).toEqual({ status: 401, code: 'X402_SIGN_IN_NOT_YET_VALID' });
    expect(await sendWith(await signIn(wallet, { domain: 'example.com' }))).toEqual({ status: 401, code: 'X402_SIGN_IN_INVALID_DOMAIN' });
    expect(await sendWith(await signIn(wallet, { chainId: 1 }))).toEqual({ status: 401, code: 'X402_SIGN_IN_UNSUPPORTED_CHAIN' });
    // signed by another key while claiming this wallet's address
    const other = privateKeyToAccount(generatePrivateKey());
    expect(await sendWith(await signIn(other, { address: wallet.address }))).toEqual({ status: 401, code: 'X402_SIGN_IN_INVALID_SIGNATURE' });
    expect(await sendWith(await signIn(other, {}, wallet.address))).toEqual({ status: 401, code: 'X402_SIGN_IN_INVALID_SIGNATURE' });
    expect(await sendWith(Buffer.from('{"address":"0xaa"}').toString('base64'))).toEqual({ status: 401, code: 'X402_SIGN_IN_INVALID_SIGNATURE' });
  });
});

describe('VENICE_SIWX', () => {
  it('pays for a run with one miss, sent as SIGN-IN-WITH-X, and appears in no output or file', async () => {
    for (const n of [2, 3, 4]) await rm(join(root, 'src', `p${n}.imageprompt.json`));
    const siwx = await signIn(wallet);
    const result = await runNode([CLI, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_SIWX: siwx } });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/1 generated/);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(sim.imageRequests()[0]!.signIn?.address).toBe(wallet.address.toLowerCase());
    expect(result.output).not.toContain(siwx);
    expect(await filesContaining(root, siwx)).toEqual([]);
  });

  it('with more misses than one, sends the value once and says why the others were not sent', async () => {
    const siwx = await signIn(wallet);
    const result = await runNode([CLI, 'generate', '--concurrency', '1'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_SIWX: siwx } });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/1 generated/);
    expect(result.output).toMatch(/the SIGN-IN-WITH-X value in VENICE_SIWX was already sent once, and Venice accepts each value once: this request was not sent/);
    expect(result.output).toMatch(/set VENICE_WALLET_PRIVATE_KEY for a wallet that signs every request/);
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('a value Venice refuses is an error about the wallet sign-in, not the key, and is not shown', async () => {
    const stale = await signIn(wallet, { issuedAt: new Date(Date.now() - 10 * 60_000) });
    const engine = new ImagePromptEngine({ root, siwx: stale, baseURL: sim.url, logger: silentLogger });
    const error = (await engine.load(join(root, 'src', 'p1.imageprompt.json')).catch((e: unknown) => e)) as ImagePromptError;
    expect(error.message).toMatch(/Venice refused the sign-in of the wallet sign-in in VENICE_SIWX \(X402_SIGN_IN_EXPIRED\)/);
    expect(error.hint).toMatch(/sign a fresh SIGN-IN-WITH-X value .* VENICE_SIWX, or set VENICE_WALLET_PRIVATE_KEY/);
    expect(error.message + error.hint).not.toContain(stale);
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('a malformed value is refused before any request, without being shown', async () => {
    const value = `${await signIn(wallet)}\n`;
    const result = await runNode([CLI, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined, VENICE_SIWX: value } });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/VENICE_SIWX holds a line break at position \d+ of \d+, which cannot be sent in an HTTP header \(the sign-in is not shown\)/);
    expect(result.output).not.toContain(value.trim().slice(10, 40));
    expect(sim.imageRequests()).toHaveLength(0);
  });
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
    expect(error.hint).toMatch(/set VENICE_API_KEY to an API key .*, or VENICE_WALLET_PRIVATE_KEY to an x402 wallet's key/);
  } finally {
    await new Promise((resolve) => proxy.close(resolve));
  }
});
