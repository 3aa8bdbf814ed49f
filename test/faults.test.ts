/**
 * Faults during real builds, driven through the local Venice-compatible server over HTTP: the build
 * completes where a retry can save it, fails clearly where not, and the cache never holds a partial
 * or wrong entry, loses nothing paid for, and pays for nothing twice.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { CacheStore, silentLogger, type Logger, type Mode } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, childEnv } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
const logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  logs.length = 0;
  sim.script({ clearRequests: true, clearFaults: true, resetLimits: true, rpm: 0, latencyMs: 0 });
  return () => removeFixture(root);
});

interface Shown {
  src: string;
}

async function viteBuild(options: { apiKey?: string; mode?: Mode } = {}): Promise<Shown[]> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: options.apiKey ?? KEY, baseURL: sim.url, logger, concurrency: 2, retry: { baseDelayMs: 20, maxBackoffMs: 100 }, mode: options.mode })],
    // no inlining: every image is emitted as a file whose bytes the test can compare
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: Shown[] }).__imageprompt;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Every cache entry must be whole: readable, with blobs matching their digests. No temporary files,
 * except (`killed`) in blobs/ right after a process was killed mid-write: the next writer sweeps them.
 */
async function expectCacheWhole(killed = false): Promise<number> {
  const store = new CacheStore(join(root, '.imageprompt'), silentLogger);
  const names = await readdir(store.entriesDir).catch(() => [] as string[]);
  for (const name of names) {
    expect(name.startsWith('.tmp-'), `leftover ${name}`).toBe(false);
    expect(await store.read(name.replace(/\.json$/, '')), `entry ${name}`).toBeDefined();
  }
  const blobs = await readdir(store.blobsDir).catch(() => [] as string[]);
  if (!killed) expect(blobs.filter((b) => b.startsWith('.tmp-'))).toEqual([]);
  return names.length;
}

describe('retried faults', () => {
  it('completes through 429 with Retry-After, then bursts of 500 and 503, with the right bytes and bounded tries', async () => {
    sim.script({ overloadNext: { count: 1, retryAfterSeconds: 1 } });
    sim.script({ failNext: { count: 2, status: 500 } });
    sim.script({ failNext: { count: 2, status: 503 } });
    const shown = await viteBuild();
    const requests = sim.imageRequests();
    expect(requests).toHaveLength(4 + 5);
    const served = new Set(requests.flatMap((r) => r.servedImages));
    for (const image of shown) expect(served.has(sha256(await readFile(join(root, 'dist', image.src))))).toBe(true);
    expect(logs.filter((l) => /attempt \d failed .*retrying in/.test(l))).toHaveLength(5);
    expect(logs.join('\n')).toMatch(/The model is currently overloaded[\s\S]*Inference processing failed[\s\S]*The model is at capacity/);
    // no request went out before the Retry-After wait was over
    const overloaded = requests.findIndex((r) => r.status === 429);
    const next = requests.slice(overloaded + 1).find((r) => r.body && JSON.stringify(r.body) === JSON.stringify(requests[overloaded]!.body));
    expect(next!.receivedAt - requests[overloaded]!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(await expectCacheWhole()).toBe(4);
  });

  it.each(['drop', 'truncated-base64', 'wrong-format', 'wrong-content-type'] as const)('retries a %s answer and caches only the right image', async (kind) => {
    if (kind === 'drop') sim.script({ dropNext: { count: 2 } });
    else sim.script({ corruptNext: { count: 2, kind } });
    const shown = await viteBuild();
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));
    for (const image of shown) expect(served.has(sha256(await readFile(join(root, 'dist', image.src))))).toBe(true);
    expect(await expectCacheWhole()).toBe(4);
  });

  it('fails clearly when the answer stays wrong, keeping no wrong entry', async () => {
    sim.script({ corruptNext: { count: 40, kind: 'wrong-format' } });
    const error = await viteBuild().catch((e: Error) => e);
    expect(String(error)).toMatch(/src\/p\d\.imageprompt\.json: Venice sent a png image where webp was asked for/);
    expect(await expectCacheWhole()).toBe(0);
  });
});

describe('final errors', () => {
  it('401 fails fast with Venice’s message and the action, no retry', async () => {
    const error = await viteBuild({ apiKey: 'not-the-key' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/Venice answered 401: "Authentication failed"[\s\S]*check the API key/);
    expect(sim.imageRequests().every((r) => r.status === 401)).toBe(true);
    // no retries, and once refused the key is not tried again: at most the two sent at once
    expect(sim.imageRequests().length).toBeLessThanOrEqual(2);
  });

  it('402 fails fast with the action to take', async () => {
    sim.script({ balanceUsd: 0 });
    const error = await viteBuild().catch((e: Error) => e);
    expect(String(error)).toMatch(/Venice answered 402[\s\S]*add credits/);
    sim.script({ balanceUsd: 1000 });
  });

  it('a 400 on one image fails the build, and the images that succeeded are cached', async () => {
    await writeFile(join(root, 'src', 'p3.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'p3', style_references: [{ image: 'aGk=' }] }));
    const error = await viteBuild().catch((e: Error) => e);
    expect(String(error)).toMatch(/src\/p3\.imageprompt\.json: Venice answered 400: "z-image-turbo does not support style_references"/);
    expect(sim.imageRequests().filter((r) => r.status === 400)).toHaveLength(1);
    const succeeded = sim.imageRequests().filter((r) => r.status === 200).length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(await expectCacheWhole()).toBe(succeeded);
  });

});

describe('interrupted and concurrent builds', () => {
  it('a build killed mid-generation leaves no partial entry; the next build reuses what completed', async () => {
    sim.script({ latencyMs: 700 });
    const child = spawn(process.execPath, [binOf('vite', 'bin/vite.js'), 'build'], {
      cwd: root,
      env: childEnv({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url }),
      stdio: 'ignore',
    });
    const entries = join(root, '.imageprompt', 'entries');
    for (let i = 0; i < 200; i++) {
      const done = (await readdir(entries).catch(() => [] as string[])).filter((n) => !n.startsWith('.tmp-'));
      if (done.length >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const completed = await expectCacheWhole(true);
    expect(completed).toBeGreaterThanOrEqual(1);
    expect(completed).toBeLessThan(4);
    const paidBefore = sim.imageRequests().length;

    sim.script({ latencyMs: 0 });
    await viteBuild();
    expect(await expectCacheWhole()).toBe(4);
    // only what had not completed is asked for again
    expect(sim.imageRequests().length - paidBefore).toBe(4 - completed);
  });

  it('frozen mode fails on a blob changed on disk', async () => {
    await viteBuild();
    const blob = (await listFiles(join(root, '.imageprompt', 'blobs')))[0]!;
    await writeFile(blob, 'changed');
    const error = await viteBuild({ mode: 'frozen' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/1 image is not in the cache \(\.imageprompt\) and frozen mode generates nothing/);
    expect(logs.join('\n')).toMatch(/does not match its digest/);
  });
});
