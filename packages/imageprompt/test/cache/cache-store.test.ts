import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { CacheStore, requestKey, type Logger } from '../../src/index.js';
import { acquireLock } from '../../src/cache/cache-lock.js';
import { HOST_TAG } from '../../src/cache/atomic-file.js';

let dir: string;
let warnings: string[];
const logger: Logger = { info: () => {}, warn: (m) => warnings.push(m), error: () => {} };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imageprompt-cache-'));
  warnings = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const REQUEST = { model: 'z-image-turbo', prompt: 'p', format: 'webp' as const, width: 16, height: 16, variants: 1, seed: 1, safe_mode: true, hide_watermark: false, embed_exif_metadata: false, enable_web_search: false, enhance_prompt: false };
// a manifest is checked against its key: the key is its request's
const KEY = requestKey(REQUEST);
// a real 16×16 WebP: manifests and blobs are checked for what they say they are
const bytes = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3366cc' } }).webp().toBuffer();
const digest = createHash('sha256').update(bytes).digest('hex');

function manifestFor(key: string) {
  return {
    version: 1 as const,
    key,
    provider: 'venice',
    request: REQUEST,
    seed: 1,
    seedSource: 'file' as const,
    response: { id: null, cfRay: null, timing: null },
    flags: { blurred: false, contentViolation: false },
    createdAt: new Date(0).toISOString(),
    durationMs: 1,
  };
}

async function commitOne(store: CacheStore, key = KEY) {
  const staged = await store.stage([bytes.subarray(0, 5), bytes.subarray(5)]);
  return store.commit(manifestFor(key), [{ staged, format: 'webp', width: 16, height: 16 }]);
}

describe('CacheStore', () => {
  it('stores blobs under the sha256 of their contents and reads the entry back', async () => {
    const store = new CacheStore(dir, logger);
    expect(await store.read(KEY)).toBeUndefined();
    const entry = await commitOne(store);
    expect(entry.paths[0]).toBe(join(dir, 'blobs', `${digest}.webp`));
    expect(await readFile(entry.paths[0]!)).toEqual(bytes);
    const again = await new CacheStore(dir, logger).read(KEY);
    expect(again?.manifest.outputs[0]).toMatchObject({ digest, format: 'webp', bytes: bytes.length, file: `blobs/${digest}.webp` });
    expect(await readdir(join(dir, 'blobs'))).toEqual([`${digest}.webp`]);
    expect(warnings).toEqual([]);
  });

  it('treats a blob changed on disk as a miss, with a warning', async () => {
    const store = new CacheStore(dir, logger);
    const entry = await commitOne(store);
    await writeFile(entry.paths[0]!, Buffer.from('tampered'));
    await utimes(entry.paths[0]!, new Date(), new Date(Date.now() + 5000));
    expect(await store.read(KEY)).toBeUndefined();
    expect(warnings[0]).toMatch(/does not match its digest/);
  });

  it('treats a missing blob or an unreadable manifest as a miss', async () => {
    const store = new CacheStore(dir, logger);
    const entry = await commitOne(store);
    await rm(entry.paths[0]!);
    expect(await store.read(KEY)).toBeUndefined();
    expect(warnings[0]).toMatch(/is missing/);
    await writeFile(store.manifestPath(KEY), '{"version":1,');
    expect(await store.read(KEY)).toBeUndefined();
    expect(warnings[1]).toMatch(/unreadable/);
  });

  it('leaves no temporary files after a commit, and discards staged blobs on request', async () => {
    const store = new CacheStore(dir, logger);
    await commitOne(store);
    const staged = await store.stage([Buffer.from('never kept')]);
    await store.discard([staged]);
    expect((await readdir(join(dir, 'blobs'))).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect((await readdir(join(dir, 'entries'))).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('a process killed while writing leaves no entry, only a temporary file', async () => {
    const script = `
      import { CacheStore, silentLogger } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      const store = new CacheStore(${JSON.stringify(dir)}, silentLogger);
      async function* forever() { for (;;) { yield Buffer.alloc(64 * 1024, 7); process.stdout.write('.'); await new Promise((r) => setTimeout(r, 5)); } }
      await store.stage(forever());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let written = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => (written += chunk.length) >= 5 && resolve());
      child.on('exit', (code) => reject(new Error(`the writer exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const store = new CacheStore(dir, logger);
    expect(await store.read(KEY)).toBeUndefined();
    expect(await readdir(join(dir, 'entries'))).toEqual([]);
    const blobs = await readdir(join(dir, 'blobs'));
    expect(blobs.length).toBe(1);
    expect(blobs[0]).toMatch(/^\.tmp-/);

    // the next process that writes to the cache clears what the killed one left, and nothing else
    const other = `.tmp-0badc0de-${child.pid}-${'0'.repeat(12)}`;
    const live = `.tmp-${HOST_TAG}-${process.pid}-${'1'.repeat(12)}`;
    await writeFile(join(dir, 'blobs', other), 'from another host');
    await writeFile(join(dir, 'entries', live), 'this process is writing it');
    await new CacheStore(dir, logger).checkWritable();
    expect((await readdir(join(dir, 'blobs'))).sort()).toEqual([other]);
    expect(await readdir(join(dir, 'entries'))).toEqual([live]);
  });

  it('a write that fails for lack of room falls back to the other directory with every byte', async () => {
    const { stageFile } = await import('../../src/cache/atomic-file.js');
    const fallback = join(dir, 'rescue');
    // a directory that cannot hold files: opening the temporary file there fails
    const blocked = join(dir, 'not-a-dir');
    await writeFile(blocked, '');
    const chunks = [bytes.subarray(0, 7), bytes.subarray(7)];
    const staged = await stageFile(blocked, chunks, { fallbackDirectory: fallback });
    expect(staged.fellBack?.code).toBe('ENOTDIR');
    expect(staged.tempPath.startsWith(fallback)).toBe(true);
    expect(await readFile(staged.tempPath)).toEqual(bytes);
    expect(staged.digest).toBe(digest);
  });
});

describe('cache lock', () => {
  it('makes a second holder wait for the first', async () => {
    const path = join(dir, 'k.lock');
    const order: string[] = [];
    const release = await acquireLock(path, { pollMs: 10 });
    const second = acquireLock(path, { pollMs: 10 }).then((r) => {
      order.push('second');
      return r;
    });
    await new Promise((r) => setTimeout(r, 80));
    order.push('first releases');
    await release();
    await (await second)();
    expect(order).toEqual(['first releases', 'second']);
  });

  it('takes over a lock whose owner died', async () => {
    const path = join(dir, 'k.lock');
    const { hostname } = await import('node:os');
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.on('exit', r));
    await writeFile(path, JSON.stringify({ pid: child.pid, host: hostname(), since: Date.now() }));
    const release = await acquireLock(path, { pollMs: 10, waitMs: 2000 });
    await release();
  });

  it('gives up with a clear error when the holder never lets go', async () => {
    const path = join(dir, 'k.lock');
    const release = await acquireLock(path);
    await expect(acquireLock(path, { pollMs: 10, waitMs: 100 })).rejects.toThrow(/delete that lock file/);
    await release();
  });
});
