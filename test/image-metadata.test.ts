/**
 * Blur-up metadata with every image: a real Vite build's imports carry `blurDataURL`, `thumbhash`,
 * `color` and `aspectRatio` that decode to the image's proportions; they are computed once, when the
 * image enters the cache, and a hit computes nothing; older entries gain them on first read without
 * their bytes or key changing; placeholders have them; `metadata: false` leaves them out.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, silentLogger, type Manifest } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  // different proportions, and one file with two variants
  await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a wide view', width: 512, height: 256 }));
  await writeFile(join(root, 'src', 'p2.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a tall view', width: 256, height: 512, format: 'png' }));
  await writeFile(join(root, 'src', 'p3.imageprompt.json'), JSON.stringify({ model: 'gpt-image-2', prompt: 'two pears', aspect_ratio: '3:2', quality: 'low', variants: 2 }));
  return () => removeFixture(root);
});

interface Shown {
  src: string;
  width: number;
  height: number;
  blurDataURL?: string;
  thumbhash?: string;
  color?: string;
  aspectRatio?: number;
  variants: Shown[];
}

async function viteBuild(options: { metadata?: boolean; mode?: 'placeholder' } = {}): Promise<Shown[]> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: options.mode ? undefined : KEY, baseURL: sim.url, logger: silentLogger, metadata: options.metadata, mode: options.mode })],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: Shown[] }).__imageprompt;
}

/** Every image of every import: the default export and each variant. */
const everyImage = (shown: Shown[]) => shown.flatMap((s) => [s, ...s.variants]);

async function expectDecodes(image: Shown): Promise<void> {
  const ratio = image.width / image.height;
  expect(image.aspectRatio).toBeCloseTo(ratio, 3);
  expect(image.color).toMatch(/^#[0-9a-f]{6}$/);
  const match = /^data:image\/webp;base64,([A-Za-z0-9+/=]+)$/.exec(image.blurDataURL ?? '');
  expect(match, image.blurDataURL).not.toBeNull();
  const bytes = Buffer.from(match![1]!, 'base64');
  expect(bytes.length).toBeLessThan(600);
  const decoded = await sharp(bytes).metadata();
  expect(decoded.format).toBe('webp');
  expect(Math.max(decoded.width!, decoded.height!)).toBe(16);
  expect(Math.abs(decoded.width! / decoded.height! - ratio) / ratio).toBeLessThan(0.1);
  // ThumbHash keeps proportions coarsely (its grid is at most 7 cells a side)
  const hash = Buffer.from(image.thumbhash!, 'base64');
  expect(Math.abs(thumbHashToApproximateAspectRatio(hash) - ratio) / ratio).toBeLessThan(0.15);
}

describe('image metadata', () => {
  it('every image of a Vite build carries metadata that decodes to its proportions', async () => {
    const shown = await viteBuild();
    const images = everyImage(shown);
    expect(images.length).toBe(4 + 2 + 3);
    for (const image of images) await expectDecodes(image);
    // the pears' two variants are two images with two blurred copies
    expect(shown[2]!.variants[0]!.blurDataURL).not.toBe(shown[2]!.variants[1]!.blurDataURL);
  });

  it('is computed when the image enters the cache: a hit computes nothing', async () => {
    const file = join(root, 'src', 'p1.imageprompt.json');
    const first = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    const generated = await first.load(file);
    expect(first.metadataComputed).toBe(1);
    const manifestPath = join(root, '.imageprompt', 'entries', `${generated.key}.json`);
    const stored = (JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest).outputs[0]!.meta;
    expect(stored).toEqual(generated.images[0]!.meta);
    const second = new ImagePromptEngine({ root, baseURL: sim.url, logger: silentLogger });
    const hit = await second.load(file);
    expect(hit.status).toBe('cached');
    expect(hit.images[0]!.meta).toEqual(stored);
    expect(second.metadataComputed).toBe(0);
  });

  it('an entry made before metadata gains it on first read, once, without its bytes or key changing', async () => {
    const file = join(root, 'src', 'p2.imageprompt.json');
    const made = await new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger }).load(file);
    const manifestPath = join(root, '.imageprompt', 'entries', `${made.key}.json`);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    for (const output of manifest.outputs) delete output.meta;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const blob = await readFile(made.images[0]!.path);

    const reader = new ImagePromptEngine({ root, baseURL: sim.url, logger: silentLogger });
    const hit = await reader.load(file);
    expect(reader.metadataComputed).toBe(1);
    expect(hit.key).toBe(made.key);
    expect(hit.images[0]!.meta).toEqual(made.images[0]!.meta);
    expect(await readFile(made.images[0]!.path)).toEqual(blob);
    const rewritten = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    expect(rewritten.outputs[0]!.meta).toEqual(made.images[0]!.meta);
    expect({ ...rewritten, outputs: rewritten.outputs.map(({ meta: _m, ...o }) => o) }).toEqual(manifest);
    expect(await listFiles(join(root, '.imageprompt', 'entries'))).toHaveLength(1);

    const again = new ImagePromptEngine({ root, baseURL: sim.url, logger: silentLogger });
    await again.load(file);
    expect(again.metadataComputed).toBe(0);
    expect(sim.imageRequests()).toHaveLength(1);
  });

  it('placeholders carry it too', async () => {
    const shown = await viteBuild({ mode: 'placeholder' });
    for (const image of everyImage(shown)) await expectDecodes(image);
    expect(sim.imageRequests()).toHaveLength(0);
  });

  it('metadata: false leaves it out of the modules and computes nothing', async () => {
    const shown = await viteBuild({ metadata: false });
    for (const image of everyImage(shown)) {
      expect(image.blurDataURL).toBeUndefined();
      expect(image.thumbhash).toBeUndefined();
    }
    const manifests = await Promise.all((await listFiles(join(root, '.imageprompt', 'entries'))).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest));
    expect(manifests.flatMap((m) => m.outputs).every((o) => o.meta === undefined)).toBe(true);
  });
});
