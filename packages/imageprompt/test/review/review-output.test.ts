/** Where the review may write: only a directory of its own, which it alone empties. */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkReviewOutput, clearOutput, REVIEW_MARKER } from '../../src/review/review-output.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'imageprompt-review-out-'));
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src', 'hero.imageprompt.json'), '{}');
});
afterEach(() => rm(root, { recursive: true, force: true }));

const places = () => ({ root, cacheDir: join(root, '.imageprompt') });

describe('checkReviewOutput', () => {
  it.each([
    ['the project root', '.', /is the project root/],
    ['a folder above it', '..', /holds the project root/],
    ['the cache', '.imageprompt', /is or holds the image cache/],
    ['a folder inside the cache', '.imageprompt/site', /is or holds the image cache/],
    ['a source folder', 'src', /did not write/],
  ])('refuses %s', (_what, out, problem) => {
    expect(() => checkReviewOutput(join(root, out), places())).toThrow(problem);
  });

  it('takes a new or empty directory, and one with its marker; empties only that one', async () => {
    expect(() => checkReviewOutput(join(root, 'site'), places())).not.toThrow();
    await mkdir(join(root, 'site', 'images'), { recursive: true });
    await writeFile(join(root, 'site', REVIEW_MARKER), '');
    await writeFile(join(root, 'site', 'images', 'old.webp'), 'x');
    expect(() => checkReviewOutput(join(root, 'site'), places())).not.toThrow();
    await clearOutput(join(root, 'site'));
    expect(await readdir(join(root, 'site'))).toEqual([]);
    await writeFile(join(root, 'site', 'mine.txt'), 'keep');
    await expect(clearOutput(join(root, 'site'))).rejects.toThrow(/no \.imageprompt-review marker/);
    expect(await readdir(join(root, 'site'))).toEqual(['mine.txt']);
  });

  it('takes a review written before the marker existed (its three names only)', async () => {
    await mkdir(join(root, 'old', 'images'), { recursive: true });
    await writeFile(join(root, 'old', 'index.html'), '');
    await writeFile(join(root, 'old', 'images', `${'a'.repeat(64)}-thumb.webp`), '');
    expect(() => checkReviewOutput(join(root, 'old'), places())).not.toThrow();
    await writeFile(join(root, 'old', 'images', 'photo.jpg'), '');
    expect(() => checkReviewOutput(join(root, 'old'), places())).toThrow(/did not write/);
  });
});
