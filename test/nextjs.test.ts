/**
 * Next.js through its webpack mode (`next build --webpack`), with the webpack entry as the only
 * addition to next.config.mjs: `next/image` takes a prompt-file import as a static image, and the
 * emitted file is named after the prompt file, holds the cached bytes and survives Venice going away.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, freePort, runNode } from './helpers/processes.js';

const KEY = secretKey();
const next = binOf('next', 'dist/bin/next');
let sim: VeniceSim;
let root: string;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function nextBuild(baseURL: string) {
  const build = await runNode([next, 'build', '--webpack'], {
    cwd: root,
    env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: baseURL, NEXT_TELEMETRY_DISABLED: '1' },
  });
  expect(build.code, build.output).toBe(0);
  const html = await readFile(join(root, 'out', 'index.html'), 'utf8');
  const img = /<img[^>]*id="hero"[^>]*>/.exec(html)?.[0];
  expect(img, html).toBeTruthy();
  return { img: img!, src: /src="([^"]+)"/.exec(img!)![1]!, output: build.output };
}

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('next-app');
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

describe('Next.js (webpack mode)', () => {
  let first: string;

  it('renders next/image from a prompt-file import, with the cached bytes under the prompt file name', async () => {
    const { img, src, output } = await nextBuild(sim.url);
    expect(sim.imageRequests()).toHaveLength(1);
    // Next's own asset pattern (static/media/[name].[hash][ext]) names the file
    expect(src).toMatch(/^\/_next\/static\/media\/hero\.[\w-]+\.webp$/);
    expect(img).toMatch(/width="640"/);
    expect(img).toMatch(/height="400"/);
    // next/image draws the blur-up from the import's blurDataURL (wrapped in its own SVG filter)
    expect(img).toMatch(/background-image:url\(&quot;data:image\/svg\+xml.*data:image\/webp;base64,/);
    const bytes = await readFile(join(root, 'out', src));
    const blobs = (await listFiles(join(root, '.imageprompt', 'blobs'))).map((f) => basename(f).split('.')[0]);
    expect(blobs).toContain(sha256(bytes));
    expect(output).not.toContain(KEY);
    first = src;
  }, 240_000);

  it('builds the same page with Venice unreachable, from the cache', async () => {
    const before = sim.imageRequests().length;
    const { src } = await nextBuild(`http://127.0.0.1:${await freePort()}/api/v1`);
    expect(sim.imageRequests()).toHaveLength(before);
    expect(src).toBe(first);
  }, 240_000);
});
