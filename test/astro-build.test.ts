/**
 * Real `astro build` runs of a fixture site (as a user runs them, in a child process) against the
 * local Venice-compatible server: prompt-file imports work with <Image> and <Picture> as local images do.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import type { Manifest } from 'imageprompt';
import { copyFixture, filesContaining, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { attributeOf } from './helpers/html.js';
import { binOf, runNode, type RunResult } from './helpers/processes.js';

const KEY = secretKey();
const astro = binOf('astro', 'bin/astro.mjs');
let sim: VeniceSim;
let root: string;
const outputs: RunResult[] = [];

const build = async () => {
  const result = await runNode([astro, 'build'], { cwd: root, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
  outputs.push(result);
  expect(result.code, result.output).toBe(0);
  return result;
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('astro-site');
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

describe('Astro build', () => {
  it('builds with <Image> and <Picture>, emitting the served bytes and real ImageMetadata', async () => {
    const { output } = await build();
    expect(output).toContain('[imageprompt] src/hero.imageprompt.json: generated in');
    expect(output).toMatch(/\[imageprompt\] \d+ images?: 0 cached, 2 generated, 0 failed/);
    // the fixture's hero asks for responsive sizes: <Picture> makes its own, so the field is said to be unused, once
    expect(output.match(/src\/hero\.imageprompt\.json: "responsive" is not used in Astro: give <Picture> its widths and formats/g)).toHaveLength(1);
    expect(await listFiles(join(root, 'node_modules', '.cache', 'imageprompt', 'derivatives'))).toEqual([]);
    expect(sim.imageRequests()).toHaveLength(2);
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));

    const html = await readFile(join(root, 'dist', 'index.html'), 'utf8');
    const meta = JSON.parse(/<pre id="meta">([^<]*)<\/pre>/.exec(html)![1]!.replace(/&quot;/g, '"')) as { width: number; height: number; format: string; pears: [number, number, string][] };
    const entries = await Promise.all(
      (await listFiles(join(root, '.imageprompt', 'entries'))).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest),
    );
    const heroEntry = entries.find((e) => e.request.variants === 1)!;
    const pearsEntry = entries.find((e) => e.request.variants === 2)!;
    expect(meta).toEqual({
      width: heroEntry.outputs[0]!.width,
      height: heroEntry.outputs[0]!.height,
      format: 'webp',
      pears: pearsEntry.outputs.map((o) => [o.width, o.height, o.format]),
    });

    const original = attributeOf(html, 'original', 'src')!;
    // named after the prompt file by Astro's own pattern (_astro/[name].[hash][extname])
    expect(original).toMatch(/^\/_astro\/hero\.[\w-]+\.webp$/);
    // ?imageprompt&url: the same file's URL, a string (the page lower-cases it, as only a string can be)
    expect(attributeOf(html, 'url', 'src')).toBe(original.toLowerCase());
    const emitted = (await listFiles(join(root, 'dist', '_astro'))).map((f) => basename(f));
    expect(emitted.filter((f) => /^pears-[12]\.[\w-]+\.png$/.test(f))).toHaveLength(2);
    const bytes = await readFile(join(root, 'dist', original));
    expect(served.has(sha256(bytes))).toBe(true);
    expect(sha256(bytes)).toBe(heroEntry.outputs[0]!.digest);

    const optimised = attributeOf(html, 'optimised', 'src')!;
    expect(optimised).toMatch(/^\/_astro\/.+\.webp$/);
    expect(attributeOf(html, 'optimised', 'width')).toBe('320');
    expect(attributeOf(html, 'optimised', 'height')).toBe(String(Math.round((320 * 400) / 640)));
    await expect(readFile(join(root, 'dist', optimised))).resolves.toBeInstanceOf(Buffer);
    expect(html).toMatch(/<picture[^>]*>[\s\S]*<source[^>]*type="image\/webp"/);
    expect(html.match(/class="pear"/g)).toHaveLength(2);
  });

  it('getImage() takes a prompt-file import carrying its blur-up fields', async () => {
    const html = await readFile(join(root, 'dist', 'typecheck', 'index.html'), 'utf8');
    expect(html).toMatch(/<img id="optimised" src="\/_astro\/[^"]+\.webp"/);
    expect(html).toMatch(/background: #[0-9a-f]{6} url\(data:image\/webp;base64,/);
  });

  it('makes no API call on a second build', async () => {
    sim.script({ clearRequests: true });
    const { output } = await build();
    expect(sim.imageRequests()).toHaveLength(0);
    expect(output).toContain('[imageprompt] src/hero.imageprompt.json: cache hit');
  });

  it('never writes the API key to the output, the cache or the logs', async () => {
    expect(await filesContaining(root, KEY)).toEqual([]);
    expect(outputs.map((o) => o.output).join('\n')).not.toContain(KEY);
  });

  it('types prompt-file imports as ImageMetadata under the stock strict tsconfig (astro check)', async () => {
    const result = await runNode([astro, 'check'], { cwd: root, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
    expect(result.output).toMatch(/0 errors/);
    expect(result.code, result.output).toBe(0);
  });
});
