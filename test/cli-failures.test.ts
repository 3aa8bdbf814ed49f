/**
 * What the command and the plugin say when things go wrong: configuration errors before anything
 * runs, spending that counts what Venice charged, honest summaries, one prefix and the "→ what to
 * do" line kept, and one warning per damaged cache file. Real processes, real HTTP.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, silentLogger } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  sim.script({ clearRequests: true, clearFaults: true, resetLimits: true, latencyMs: 0 });
  return () => removeFixture(root);
});

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runNode([bin, ...args], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY, IMAGEPROMPT_MODE: undefined, ...env } });

describe('a malformed imageprompt.config.json', () => {
  it('stops the command and the build before any request, with the field and the fix', async () => {
    await writeFile(join(root, 'imageprompt.config.json'), '{ "retry": { "maxAttempts": "x" } }');
    const result = await run(['generate']);
    expect(result.code).toBe(2);
    expect(result.output).toBe('imageprompt: imageprompt.config.json, field "retry.maxAttempts": must be a number, found "x"\n  → see docs/config.md (in the imageprompt package)\n');
    const error = await build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger })],
      build: { outDir: 'dist', emptyOutDir: true },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(/imageprompt\.config\.json, field "retry\.maxAttempts": must be a number, found "x"/);
    expect(sim.requests).toHaveLength(0);
  });
});

describe('imageprompt generate', () => {
  it('refuses to run in frozen or placeholder mode, saying why', async () => {
    for (const mode of ['frozen', 'placeholder']) {
      const result = await run(['generate'], { IMAGEPROMPT_MODE: mode });
      expect(result.code).toBe(2);
      expect(result.output).toMatch(new RegExp(`^imageprompt: generate calls Venice, but IMAGEPROMPT_MODE=${mode} says not to; nothing was generated\\n  → unset IMAGEPROMPT_MODE`));
    }
    expect(sim.requests).toHaveLength(0);
  });

  it('counts an image another process generated while it waited as cached, not generated', async () => {
    const file = join(root, 'src', 'p1.imageprompt.json');
    // "another process" generates p1 into a cache of its own first, and holds p1's lock in the shared one
    const other = new ImagePromptEngine({ root, cacheDir: 'other-cache', apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    const { key } = await other.load(file);
    await mkdir(join(root, '.imageprompt', 'locks'), { recursive: true });
    const lock = join(root, '.imageprompt', 'locks', `${key}.lock`);
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now(), holdMs: 600_000, nonce: 'test' }));
    const child = spawn(process.execPath, [bin, 'generate', '--concurrency', '4'], {
      cwd: root,
      env: { ...process.env, VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 100 && !output.includes('waiting'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toMatch(/warning: src\/p1\.imageprompt\.json: waiting \d+ s for another process generating key/);
    // the holder commits its entry and releases the lock
    await cp(join(root, 'other-cache', 'blobs'), join(root, '.imageprompt', 'blobs'), { recursive: true });
    await cp(join(root, 'other-cache', 'entries'), join(root, '.imageprompt', 'entries'), { recursive: true });
    await rm(lock);
    await exited;
    expect(output).toMatch(/^3 generated, 1 already cached, 0 failed, 0 invalid/m);
    // p1 was paid once in all
    expect(sim.imageRequests()).toHaveLength(4);
  });

  it('keeps the "→ what to do" line of a failure, and never doubles its prefix', async () => {
    sim.script({ balanceUsd: 0 });
    const result = await run(['generate', '--concurrency', '1']);
    sim.script({ balanceUsd: 1000 });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/failed {2}src\/p1\.imageprompt\.json: Venice answered 402: "[^"]+" → add credits/);
    const usage = await run(['generate', '--concurrency', '0']);
    expect(usage.output).toMatch(/^imageprompt: options, field "concurrency": must be at least 1/);
    expect(usage.output).not.toMatch(/imageprompt: imageprompt:/);
  });
});

describe('spending', () => {
  it('counts every answer Venice charged for, retries included, against the cap and in the total', async () => {
    // two answers in the wrong format (charged, unusable), then a good one: three charges of $0.01
    sim.script({ corruptNext: { count: 2, kind: 'wrong-format' } });
    const result = await run(['generate', 'src/p1.imageprompt.json', '--concurrency', '1']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/1 generated, 0 already cached, 0 failed, 0 invalid; spent about \$0\.03/);

    // with a cap of $0.02, the third attempt is not sent
    sim.script({ clearRequests: true, corruptNext: { count: 2, kind: 'wrong-format' } });
    const capped = await run(['generate', 'src/p2.imageprompt.json', '--max-spend', '0.02']);
    expect(capped.code, capped.output).toBe(3);
    expect(sim.imageRequests()).toHaveLength(2);
    expect(capped.output).toMatch(/spent about \$0\.02/);
    expect(capped.output).toMatch(/stopped at the spend cap of \$0\.02; left ungenerated:\n {2}src\/p2\.imageprompt\.json/);
  });

  it('does not count answers Venice did not charge for', async () => {
    sim.script({ failNext: { count: 2, status: 500 } });
    const result = await run(['generate', 'src/p1.imageprompt.json', '--max-spend', '0.01']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/spent about \$0\.01/);
  });

  it('once the cap stops one image, stops the run: no cheaper image after it', async () => {
    await writeFile(join(root, 'src', 'p2.imageprompt.json'), JSON.stringify({ model: 'nano-banana-pro', prompt: 'expensive', aspect_ratio: '1:1', resolution: '2K' }));
    const result = await run(['generate', '--max-spend', '0.05', '--concurrency', '1']);
    expect(result.code, result.output).toBe(3);
    // p1 ($0.01) is generated; p2 ($0.23) is refused by the cap; p3 and p4 ($0.01 each) are not sent
    expect(sim.imageRequests()).toHaveLength(1);
    expect(result.output).toMatch(/left ungenerated:\n {2}src\/p2\.imageprompt\.json\n {2}src\/p3\.imageprompt\.json\n {2}src\/p4\.imageprompt\.json/);
  });
});

describe('warnings about the cache', () => {
  it('a damaged entry is reported once per run, however often it is read', async () => {
    await run(['generate', 'src/p1.imageprompt.json']);
    const entries = join(root, '.imageprompt', 'entries');
    const [entry] = await readdir(entries);
    await writeFile(join(entries, entry!), '{ not json');
    const result = await run(['generate', 'src/p1.imageprompt.json']);
    expect(result.output.match(/cache entry [0-9a-f]{12} is unreadable/g)).toHaveLength(1);
  });
});
