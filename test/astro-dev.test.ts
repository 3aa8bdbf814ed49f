/**
 * `astro dev` on the fixture site: the page renders the prompt-file images through <Image>, and the
 * images it points at are served.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, childEnv, freePort } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let dev: ChildProcess;
let base: string;
let output = '';

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('astro-site');
  // astro dev reports the wrong port when given port 0, so choose one
  const port = await freePort();
  dev = spawn(process.execPath, [binOf('astro', 'bin/astro.mjs'), 'dev', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: root,
    env: childEnv({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`http://127.0.0.1:${port}/`)) resolve(`http://127.0.0.1:${port}`);
    };
    dev.stdout!.on('data', onData);
    dev.stderr!.on('data', onData);
    dev.on('exit', (code) => reject(new Error(`astro dev exited with ${code}:\n${output}`)));
  });
});
afterAll(async () => {
  dev?.kill('SIGTERM');
  await sim.close();
  await removeFixture(root);
});

describe('astro dev', () => {
  it('renders <Image> from a prompt file and serves the image', async () => {
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('id="optimised"');
    const src = /<img[^>]*id="optimised"[^>]*src="([^"]+)"/.exec(html)?.[1] ?? /<img[^>]*src="([^"]+)"[^>]*id="optimised"/.exec(html)?.[1];
    expect(src, html).toMatch(/^\/_image\?href=/);
    const image = await fetch(`${base}${src!.replace(/&amp;/g, '&')}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
    const original = /<img[^>]*id="original"[^>]*src="([^"]+)"/.exec(html)?.[1] ?? /<img[^>]*src="([^"]+)"[^>]*id="original"/.exec(html)?.[1];
    const raw = await fetch(`${base}${original!.replace(/&amp;/g, '&')}`);
    expect(raw.status).toBe(200);
    expect(Buffer.from(await raw.arrayBuffer()).subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(sim.imageRequests().length).toBe(2);
    expect(output).not.toContain(KEY);
  });
});
