/**
 * Responsive derivatives: the prompt file's `responsive` field (checked, never part of the request
 * key), and the derivatives made from a cached image: widths never above the source's, keys that
 * change with exactly what makes the file, files written whole, work shared and never repeated.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImagePromptError, ModelCatalog, parsePromptFile, prepareRequest } from '../../src/index.js';
import { Derivatives } from '../../src/images/derivatives.js';
import { canMount, mountTinyFs } from '../../../../test/helpers/filesystems.js';

const catalog = ModelCatalog.bundled();
const prepared = (fields: object) => prepareRequest(parsePromptFile(JSON.stringify({ model: 'z-image-turbo', prompt: 'a lighthouse', width: 640, height: 400, ...fields }), 'hero.imageprompt.json'), {}, catalog, 'hero.imageprompt.json');

describe('the responsive field', () => {
  it('is the import’s, not the request’s: the key is the same with or without it', () => {
    const plain = prepared({});
    const responsive = prepared({ responsive: { widths: [960, 320], formats: ['webp'] } });
    expect(responsive.key).toBe(plain.key);
    expect(responsive.responsive).toEqual({ widths: [320, 960], formats: ['webp'] });
    // AVIF then WebP when no format is named
    expect(prepared({ responsive: { widths: [320] } }).responsive?.formats).toEqual(['avif', 'webp']);
  });

  it.each([
    [{ widths: [] }, 'responsive.widths', /at least one width/],
    [{ widths: [320, 320] }, 'responsive.widths', /twice/],
    [{ widths: [8] }, 'responsive.widths.0', /at least 16/],
    [{ widths: [320.5] }, 'responsive.widths.0', /whole number, found 320\.5/],
    [{ widths: [320], formats: ['gif'] }, 'responsive.formats.0', /avif|webp/],
    [{ widths: [320], sizes: '100vw' }, 'responsive', /sizes/],
  ])('refuses %j naming %s', (responsive, field, message) => {
    let error: ImagePromptError | undefined;
    try {
      prepared({ responsive });
    } catch (e) {
      error = e as ImagePromptError;
    }
    expect(error).toBeInstanceOf(ImagePromptError);
    expect(error!.message).toContain('hero.imageprompt.json');
    expect(`${error!.field} ${error!.message}`).toContain(field);
    expect(error!.message).toMatch(message);
  });
});

describe('Derivatives', () => {
  let dir: string;
  let source: { path: string; digest: null; width: number; height: number };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imageprompt-derivatives-'));
    const path = join(dir, 'source.png');
    await writeFile(path, await sharp({ create: { width: 640, height: 400, channels: 3, background: '#4a7' } }).png().toBuffer());
    source = { path, digest: null, width: 640, height: 400 };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never upscales: wider widths are dropped, and a spec with none left gets the source’s own width', async () => {
    const derivatives = new Derivatives(join(dir, 'out'));
    const plan = await derivatives.plan(source, { widths: [320, 1280], formats: ['webp'] });
    expect(plan.dropped).toEqual([1280]);
    expect(plan.derivatives.map((d) => [d.width, d.height])).toEqual([[320, 200]]);
    const none = await derivatives.plan(source, { widths: [800, 1600], formats: ['avif'] });
    expect(none.derivatives.map((d) => [d.width, d.height, d.format])).toEqual([[640, 400, 'avif']]);
  });

  it('makes each file once, whole, at its size and format; keys change with width, format and source', async () => {
    const derivatives = new Derivatives(join(dir, 'out'));
    const plan = await derivatives.plan(source, { widths: [160, 320], formats: ['avif', 'webp'] });
    expect(new Set(plan.derivatives.map((d) => d.key)).size).toBe(4);
    // two callers at once share one encoding
    await Promise.all([derivatives.make(source, plan), derivatives.make(source, plan)]);
    expect(Derivatives.ready(plan)).toBe(true);
    for (const d of plan.derivatives) {
      const meta = await sharp(d.path).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([d.width, d.height, d.format === 'avif' ? 'heif' : d.format]);
    }
    const files = (await readdir(join(dir, 'out'))).sort();
    expect(files).toHaveLength(4);
    const times = await Promise.all(plan.derivatives.map(async (d) => (await stat(d.path)).mtimeMs));
    await derivatives.make(source, plan);
    expect(await Promise.all(plan.derivatives.map(async (d) => (await stat(d.path)).mtimeMs))).toEqual(times);
    // another source: other keys
    await writeFile(source.path, await sharp({ create: { width: 640, height: 400, channels: 3, background: '#a47' } }).png().toBuffer());
    const other = await derivatives.plan(source, { widths: [160, 320], formats: ['avif', 'webp'] });
    expect(other.derivatives.some((d) => plan.derivatives.some((p) => p.key === d.key))).toBe(false);
  });

  it.skipIf(!canMount)('leaves no partial file on a full disk, keeping those written whole, and says why', async () => {
    // a grainy source, so that its full-width copy cannot fit where its 16-px copy does
    const noise = Buffer.from(Array.from({ length: 640 * 400 * 3 }, () => Math.floor(Math.random() * 256)));
    await writeFile(source.path, await sharp(noise, { raw: { width: 640, height: 400, channels: 3 } }).png().toBuffer());
    const out = join(dir, 'out');
    const unmount = await mountTinyFs(out, 16 * 1024);
    try {
      const derivatives = new Derivatives(out);
      const plan = await derivatives.plan(source, { widths: [16, 640], formats: ['png'] });
      await expect(derivatives.make(source, plan)).rejects.toThrow(/ENOSPC/);
      expect(await readdir(out)).toEqual([basename(plan.derivatives[0]!.path)]);
      expect((await sharp(plan.derivatives[0]!.path).metadata()).width).toBe(16);
    } finally {
      unmount();
    }
  });
});
