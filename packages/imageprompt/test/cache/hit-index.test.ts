/**
 * The hit index trusts a prompt file's stamp instead of reading it only while that is safe: an edit
 * that keeps the size and puts the modification time back (`cp -p`, `rsync -t`) is still seen, and a
 * stamp recorded within moments of the file's last write is checked against the bytes until it is old.
 */
import { mkdtemp, mkdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HitIndex } from '../../src/cache/hit-index.js';

const KEY = 'a'.repeat(64);
const DIGEST = 'b'.repeat(64);
let dir: string;
let prompt: string;
let blob: string;

function index(): HitIndex {
  return HitIndex.for({ digest: 'settings', frozen: false, cacheDir: join(dir, 'cache'), indexPath: join(dir, 'hit-index.json') });
}

/** Looks the prompt file up (as a build does before it serves it) and records it as verified. */
async function record(): Promise<void> {
  const hits = index();
  expect(hits.lookup(prompt)).toBeUndefined();
  hits.remember(prompt, { key: KEY, alt: null, responsive: null, seed: 1, warnings: [], images: [{ path: blob, format: 'webp', width: 8, height: 8, digest: DIGEST }] });
  await hits.save();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hit-index-'));
  await mkdir(join(dir, 'cache', 'entries'), { recursive: true });
  await writeFile(join(dir, 'cache', 'entries', `${KEY}.json`), '{}');
  blob = join(dir, 'cache', `${DIGEST}.webp`);
  await writeFile(blob, 'image bytes');
  prompt = join(dir, 'hero.imageprompt.json');
  await writeFile(prompt, '{"prompt":"a lighthouse at dusk"}');
  // written an hour ago: not racy
  const past = new Date(Date.now() - 3600_000);
  await utimes(prompt, past, past);
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

describe('the hit index', () => {
  it('serves an unchanged prompt file from its record', async () => {
    await record();
    expect(index().lookup(prompt)?.key).toBe(KEY);
  });

  it('sees an edit of the same size whose modification time was put back', async () => {
    await record();
    const before = await stat(prompt);
    await writeFile(prompt, '{"prompt":"a lighthouse at dawn"}');
    await utimes(prompt, before.atime, before.mtime);
    const after = await stat(prompt);
    expect([after.size, Math.trunc(after.mtimeMs), after.ino]).toEqual([before.size, Math.trunc(before.mtimeMs), before.ino]);
    expect(index().lookup(prompt)).toBeUndefined();
  });

  it('checks a racy stamp against the bytes, and records it once it is old enough', async () => {
    // written now and recorded at once: an edit in the same millisecond could share the stamp
    await writeFile(prompt, '{"prompt":"a lighthouse at noon"}');
    await record();
    const hits = index();
    expect(hits.lookup(prompt)?.key).toBe(KEY);
    // still racy: hashed, nothing new learnt
    expect(hits.unsaved).toBe(false);
    vi.useFakeTimers({ now: Date.now() + 10_000, toFake: ['Date'] });
    const later = index();
    expect(later.lookup(prompt)?.key).toBe(KEY);
    // old enough now: its stamp is recorded with the digest, so the next build only stats it
    expect(later.unsaved).toBe(true);
  });
});
