/**
 * What a prompt file cannot do: choose where requests (and the key) go, make the plugin fetch
 * anything, or make it read or write outside the cache and output directories.
 */
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { silentLogger } from 'imageprompt';
import { copyFixture, filesContaining, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let rogue: Server;
let rogueUrl: string;
const rogueHits: string[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('slow-site');
  rogue = createServer((req, res) => {
    rogueHits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.end('{}');
  });
  await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
  rogueUrl = `http://127.0.0.1:${(rogue.address() as { port: number }).port}`;
});
afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => rogue.close(resolve));
  await removeFixture(root);
});

const viteBuild = () =>
  build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger })],
    build: { outDir: 'dist', emptyOutDir: true },
  });

describe('prompt files cannot redirect the key or the plugin', () => {
  it('a base URL in a prompt file is refused; URLs in it are never fetched by the plugin', async () => {
    await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'x', baseURL: `${rogueUrl}/api/v1` }));
    const error = await viteBuild().catch((e: Error) => e);
    expect(String(error)).toMatch(/field "baseURL": is not a field Venice accepts/);

    await writeFile(
      join(root, 'src', 'p1.imageprompt.json'),
      JSON.stringify({
        $schema: `${rogueUrl}/schema.json`,
        model: 'krea-v2-medium',
        prompt: 'x',
        style_references: [{ image: `${rogueUrl}/reference.png` }],
        alt: `${rogueUrl}/alt`,
      }),
    );
    await viteBuild();
    expect(rogueHits).toEqual([]);
    // the key went only to the configured server, in the Authorization header
    expect(sim.imageRequests().every((r) => r.headers.authorization === 'Bearer [redacted]')).toBe(true);
    expect(JSON.stringify(sim.requests.map((r) => r.body))).not.toContain(KEY);
  });

  it('paths in prompt fields never become file paths: everything written is under dist, the cache or node_modules/.cache', async () => {
    await writeFile(join(root, 'src', 'p2.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: '../../../../etc/passwd', alt: '../../outside.txt', width: 256, height: 256 }));
    const before = new Set(await listFiles(root));
    await viteBuild();
    const written = (await listFiles(root)).filter((f) => !before.has(f)).map((f) => relative(root, f));
    expect(written.length).toBeGreaterThan(0);
    for (const file of written) expect(file, file).toMatch(/^(dist|\.imageprompt|node_modules\/\.cache\/imageprompt)\//);
    expect(await filesContaining(root, KEY)).toEqual([]);
  });
});

describe('secrets in malformed settings never reach the output', () => {
  const bin = commandOf('imageprompt');
  const generate = (env: Record<string, string | undefined>) => runNode([bin, 'generate'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY, ...env } });

  it('a key with a line break or other control character is refused before any request, and not shown', async () => {
    const before = sim.requests.length;
    for (const key of [`${KEY}\nX-Injected: 1`, `${KEY}\r`, `sk-${'\u0007'}${KEY.slice(3)}`, ` ${KEY}`]) {
      const result = await generate({ VENICE_API_KEY: key });
      expect(result.code, result.output).toBe(2);
      expect(result.output).toMatch(/VENICE_API_KEY holds a (line break|control character|space) at position \d+ of \d+, which cannot be sent in an HTTP header \(the key is not shown\)/);
      expect(result.output).not.toContain(KEY.slice(12));
    }
    const error = await build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [imageprompt({ apiKey: `${KEY}\n`, baseURL: sim.url, logger: silentLogger })],
      build: { outDir: 'dist', emptyOutDir: true },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(/the apiKey option holds a line break/);
    expect(String(error)).not.toContain(KEY.slice(12));
    expect(sim.requests.length).toBe(before);
  });

  it('a base URL with a user name or password is refused, shown without them', async () => {
    const before = sim.requests.length;
    const withCredentials = sim.url.replace('http://', 'http://someone:pa55w0rd-secret@');
    const result = await generate({ VENICE_BASE_URL: withCredentials });
    expect(result.code, result.output).toBe(2);
    expect(result.output).toContain(`VENICE_BASE_URL holds a user name or password (${sim.url})`);
    expect(result.output).not.toMatch(/pa55w0rd|someone/);
    expect(sim.requests.length).toBe(before);
  });

  it('a base URL without a scheme is one configuration error naming the variable, not retried connection failures', async () => {
    const hostAndPort = sim.url.slice('http://'.length);
    for (const [value, problem] of [
      [`${hostAndPort}/api/v1`, 'is not a URL'],
      [`user:pa55w0rd-secret@${hostAndPort}/api/v1`, 'is not an http or https URL'],
      [`localhost:${hostAndPort.split(':')[1]}/api/v1`, 'is not an http or https URL'],
    ] as const) {
      const result = await generate({ VENICE_BASE_URL: value });
      expect(result.code, result.output).toBe(2);
      expect(result.output.trim().split('\n'), result.output).toHaveLength(2);
      expect(result.output).toMatch(new RegExp(`^imageprompt: VENICE_BASE_URL ${problem} \\("[^"]*"\\)\n  → give a full URL with its scheme`));
      expect(result.output).not.toMatch(/pa55w0rd|retrying|connection to Venice failed/);
    }
  });
});
