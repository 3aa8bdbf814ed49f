/**
 * The per-key lock across real processes: abandoned locks (dead holder, empty file, a holder on
 * another host past its bound) are taken over by exactly one process, a live holder on this host
 * keeps its lock however long it takes, and a waiter says what it waits for.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVeniceSim, type VeniceSim } from 'venice-sim';
import { ImagePromptEngine, silentLogger, type Logger } from '../../src/index.js';
import { acquireLock } from '../../src/cache/cache-lock.js';

const KEY = 'lock-test-key';
let sim: VeniceSim;
let root: string;
let file: string;
let lockPath: string;

beforeAll(async () => {
  sim = await startVeniceSim({ keys: [KEY], rpm: 0 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 300 });
  root = await mkdtemp(join(tmpdir(), 'imageprompt-lock-'));
  file = join(root, 'a.imageprompt.json');
  await writeFile(file, JSON.stringify({ model: 'z-image-turbo', prompt: `a lock test ${root}`, width: 256, height: 256 }));
  const key = (await engine().prepare(file)).key;
  await mkdir(join(root, '.imageprompt', 'locks'), { recursive: true });
  lockPath = join(root, '.imageprompt', 'locks', `${key}.lock`);
  return () => rm(root, { recursive: true, force: true });
});

const engine = (logger: Logger = silentLogger) => new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger });

/** A pid that no process has now: a child that has already exited (locks also record a start time no process has, should the pid be reused). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** Starts `count` processes that each load the prompt file once `go` exists, and collects their statuses. */
async function race(count: number): Promise<string[]> {
  const go = join(root, 'go');
  const script = `
    import { existsSync } from 'node:fs';
    import { ImagePromptEngine, silentLogger } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
    const engine = new ImagePromptEngine({ root: ${JSON.stringify(root)}, apiKey: ${JSON.stringify(KEY)}, baseURL: ${JSON.stringify(sim.url)}, logger: silentLogger });
    await engine.prepare(${JSON.stringify(file)});
    process.stdout.write('ready\\n');
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
    const result = await engine.load(${JSON.stringify(file)});
    process.stdout.write(result.status + '\\n');
  `;
  const children = Array.from({ length: count }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const outputs = children.map(
    (child) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()!) : reject(new Error(`exit ${code}: ${out}`))));
      }),
  );
  const ready = children.map((child) => new Promise<void>((resolve) => child.stdout.once('data', () => resolve())));
  await Promise.all(ready);
  await writeFile(go, '');
  return Promise.all(outputs);
}

describe('abandoned locks are taken over by exactly one process', () => {
  it('a lock whose holder died on this host', async () => {
    await writeFile(lockPath, JSON.stringify({ pid: await deadPid(), host: hostname(), since: Date.now(), holdMs: 1_440_000, start: '0', nonce: 'dead' }));
    const statuses = await race(6);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(statuses.sort()).toEqual(['cached', 'cached', 'cached', 'cached', 'cached', 'generated']);
  });

  it('an empty lock left by a process killed while making it', async () => {
    await writeFile(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    const statuses = await race(6);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(statuses.filter((s) => s === 'generated')).toHaveLength(1);
  });

  it('a lock from another host older than the bound its holder wrote', async () => {
    await writeFile(lockPath, JSON.stringify({ pid: 1, host: 'elsewhere.example', since: Date.now() - 120_000, holdMs: 60_000, nonce: 'far' }));
    const statuses = await race(4);
    expect(sim.imageRequests()).toHaveLength(1);
    expect(statuses.filter((s) => s === 'generated')).toHaveLength(1);
  });

  it('leaves no lock or take-over claim behind', async () => {
    await writeFile(lockPath, JSON.stringify({ pid: await deadPid(), host: hostname(), since: Date.now(), holdMs: 1, start: '0', nonce: 'dead' }));
    await race(4);
    expect(await readdir(join(root, '.imageprompt', 'locks'))).toEqual([]);
  });
});

describe('live holders and waiters', () => {
  it('never takes over a live holder on this host, however old its lock, and says what it waits for', async () => {
    // this test process is the holder: alive, and its lock an hour past any bound
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() - 3_600_000, holdMs: 1000, nonce: 'live' }));
    const lines: string[] = [];
    const logger: Logger = { info: () => {}, warn: (m) => lines.push(m), error: () => {} };
    const loading = engine(logger).load(file);
    await new Promise((r) => setTimeout(r, 3000));
    expect(sim.imageRequests()).toHaveLength(0);
    const waiting = lines.find((l) => l.includes('waiting'));
    expect(waiting).toMatch(new RegExp(`^a\\.imageprompt\\.json: waiting \\d+ s for another process generating key [0-9a-f]{12} \\(lock \\.imageprompt/locks/[0-9a-f]{64}\\.lock, held by pid ${process.pid} on ${hostname()} since`));
    await rm(lockPath);
    expect((await loading).status).toBe('generated');
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('says an empty lock is being waited out, then takes it over', async () => {
    await writeFile(lockPath, '');
    const notices: string[] = [];
    const release = await acquireLock(lockPath, { emptyGraceMs: 1500, firstNoticeMs: 300, pollMs: 50, onWait: (w) => notices.push(w.owner ? 'held' : 'empty') });
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices[0]).toBe('empty');
    await release();
    expect(await readdir(join(root, '.imageprompt', 'locks'))).toEqual([]);
  });

  it('writes the bound from the retry policy and timeout in force into its lock', async () => {
    sim.script({ latencyMs: 800 });
    const e = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger, timeoutMs: 10_000, retry: { maxAttempts: 2, maxWaitMs: 5000, maxBackoffMs: 1000 } });
    const loading = e.load(file);
    let owner: { holdMs: number } | undefined;
    for (let i = 0; i < 100 && !owner; i++) {
      await new Promise((r) => setTimeout(r, 20));
      owner = await import('node:fs/promises').then((fs) => fs.readFile(lockPath, 'utf8').then((t) => JSON.parse(t) as { holdMs: number }, () => undefined));
    }
    await loading;
    // two attempts of 10 s, one wait of at most 5 s, and a minute for the disk
    expect(owner?.holdMs).toBe(2 * 10_000 + 5000 + 60_000);
  });
});
