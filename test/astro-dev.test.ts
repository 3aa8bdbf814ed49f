/**
 * `astro dev` on the fixture site: the page renders the prompt-file images through <Image>, and the
 * images it points at are served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { attributeOf } from './helpers/html.js';
import { binOf, startServer, type RunningServer } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let dev: RunningServer;

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('astro-site');
  dev = await startServer([binOf('astro', 'bin/astro.mjs'), 'dev'], { cwd: root, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
});
afterAll(async () => {
  await dev?.stop();
  await sim.close();
  await removeFixture(root);
});

describe('astro dev', () => {
  it('renders <Image> from a prompt file and serves the image', async () => {
    const html = await (await fetch(`${dev.url}/`)).text();
    const optimised = attributeOf(html, 'optimised', 'src');
    expect(optimised, html).toMatch(/^\/_image\?href=/);
    const image = await fetch(`${dev.url}${optimised}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
    const raw = await fetch(`${dev.url}${attributeOf(html, 'original', 'src')}`);
    expect(raw.status).toBe(200);
    expect(Buffer.from(await raw.arrayBuffer()).subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(sim.imageRequests().length).toBe(2);
    expect(dev.output()).not.toContain(KEY);
  });
});
