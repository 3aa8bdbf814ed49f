/**
 * A cache that cannot be written is a local failure, never a network fault: it is not retried (a
 * retry would be paid again), the error names the cache path and the fix, and an image Venice
 * already sent is kept outside the cache and used by the next build instead of paying again.
 * Real file systems: a tiny tmpfs that fills up, and a read-only directory for an unprivileged build.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { canMount, chownToNobody, isRoot, mountTinyFs, NOBODY } from './helpers/filesystems.js';
import { binOf, runNode } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
/** This run's prompts, unique so that no other test's rescued image can answer for them. */
let tag: string;
const logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const rescueRoot = join(tmpdir(), 'imageprompt-rescue');

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  tag = randomBytes(4).toString('hex');
  logs.length = 0;
  sim.script({ clearRequests: true, clearFaults: true, resetLimits: true, rpm: 0, latencyMs: 0 });
  // 512×512 PNGs: about 32 KB each, more than the tiny file system holds
  for (let i = 1; i <= 4; i++) {
    await writeFile(
      join(root, 'src', `p${i}.imageprompt.json`),
      JSON.stringify({ model: 'z-image-turbo', prompt: `picture ${i} ${tag}`, width: 512, height: 512, format: 'png' }),
    );
  }
  return () => removeFixture(root);
});

async function viteBuild(): Promise<{ src: string }[]> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger, concurrency: 1, retry: { baseDelayMs: 20, maxBackoffMs: 100 } })],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: { src: string }[] }).__imageprompt;
}

/** The request bodies the simulator answered with an image, by prompt. */
const paidPrompts = () =>
  sim
    .imageRequests()
    .filter((r) => r.status === 200)
    .map((r) => (r.body as { prompt: string }).prompt);

describe.skipIf(!canMount)('a full disk', () => {
  it('pays once per image, fails naming the cache and the fix, keeps the paid bytes, and the next build pays nothing for them', async () => {
    const cacheDir = join(root, '.imageprompt');
    const unmount = await mountTinyFs(cacheDir, 16 * 1024);
    let error: unknown;
    try {
      error = await viteBuild().catch((e: unknown) => e);
    } finally {
      unmount();
    }
    const message = String(error);
    expect(message).toMatch(/cannot write to the cache: .*\.imageprompt\/blobs\/\.tmp-[^:]+: ENOSPC \(the disk is full\)/);
    expect(message).toMatch(/is kept at .*imageprompt-rescue/);
    expect(message).toMatch(/free space on the disk that holds .*\.imageprompt/);
    expect(logs.join('\n')).not.toMatch(/connection to Venice failed|retrying/);
    const paid = paidPrompts();
    expect(paid.length).toBeGreaterThanOrEqual(1);
    // never the same image twice
    expect(new Set(paid).size).toBe(paid.length);
    expect(sim.imageRequests()).toHaveLength(paid.length);

    // with room again, what was paid for comes from the rescue folder: only the rest is requested
    const shown = await viteBuild();
    const paidAgain = paidPrompts();
    expect(paidAgain.slice(0, paid.length), JSON.stringify({ paid, paidAgain, logs, message }, null, 1)).toEqual(paid);
    expect(paidAgain, JSON.stringify({ paid, paidAgain, logs, message }, null, 1)).toHaveLength(4);
    expect(paidAgain).toHaveLength(4);
    expect(new Set(paidAgain).size).toBe(4);
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));
    for (const image of shown) expect(served.has(sha256(await readFile(join(root, 'dist', image.src))))).toBe(true);
    expect(logs.filter((l) => /took the image paid for in an earlier run/.test(l))).toHaveLength(paid.length);
    // the rescue folders were emptied into the cache
    const left = await readdir(rescueRoot).catch(() => [] as string[]);
    const keys = (await readdir(join(cacheDir, 'entries'))).map((n) => n.replace(/\.json$/, ''));
    expect(left.filter((k) => keys.includes(k))).toEqual([]);
  });
});

describe.skipIf(!isRoot)('a read-only cache directory', () => {
  it('sends nothing to Venice and fails naming the directory and the fix', async () => {
    const blobs = join(root, '.imageprompt', 'blobs');
    await mkdir(blobs, { recursive: true });
    chownToNobody(root);
    // the blob folder stays root's and read-only: the unprivileged build cannot write there
    await chown(blobs, 0, 0);
    await chmod(blobs, 0o555);
    const result = await runNode([binOf('vite', 'bin/vite.js'), 'build', '--configLoader', 'native'], {
      cwd: root,
      env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url },
      user: NOBODY,
    });
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toMatch(/cannot write to the cache: .*\.imageprompt\/blobs\/\.tmp-[^:]+: EACCES \(permission denied\); nothing was sent to Venice, so nothing was paid/);
    expect(result.output).toMatch(/make .*\.imageprompt writable by this user/);
    expect(result.output).not.toMatch(/connection to Venice failed|retrying/);
    expect(result.output).not.toContain(KEY);
    expect(sim.imageRequests()).toHaveLength(0);
    await rm(blobs, { recursive: true, force: true });
  });
});
