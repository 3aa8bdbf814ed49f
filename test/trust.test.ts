/**
 * What crosses a machine is data, bounded, and never trusted for more than it is: manifests from the
 * shared cache and from a committed cache, stores that lie, stall, redirect or never end, a review
 * pointed at the wrong directory, a cancelled job, a lost blob. Hostile servers are the tests' own,
 * on 127.0.0.1; the real stores are s3rver and the simulator.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger, Manifest } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { childEnv, freePort, runNode, commandOf } from './helpers/processes.js';
import { withEnv } from './helpers/environment.js';
import { startConditionalStore, startS3, startScriptedServer, type RunningStore, type ScriptedServer } from './helpers/remote-servers.js';

const KEY = secretKey();
const BUCKET = 'trust';
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let s3: RunningStore;
let deadVenice: string;
const machines: string[] = [];
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const paid = () => sim.imageRequests().filter((r) => r.status === 200).length;
const s3Writer = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'not-checked-by-s3rver', AWS_SESSION_TOKEN: undefined as string | undefined };

beforeAll(async () => {
  sim = await startSim(KEY);
  s3 = await startS3(BUCKET);
  deadVenice = `http://127.0.0.1:${await freePort()}/api/v1`;
});
afterAll(async () => {
  await sim.close();
  await s3.close();
  for (const dir of machines) await removeFixture(dir);
});
beforeEach(() => {
  logs = [];
  sim.script({ clearRequests: true, clearFaults: true, resetLimits: true, latencyMs: 0 });
});

/** A fresh clone of a site with `count` prompt files made unique by `tag`. */
async function machine(tag: string, count = 4): Promise<string> {
  const root = await copyFixture('slow-site');
  machines.push(root);
  for (const file of await readdir(join(root, 'src'))) if (file.endsWith('.imageprompt.json')) await rm(join(root, 'src', file));
  const imports: string[] = [];
  for (let i = 1; i <= count; i++) {
    await writeFile(join(root, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `picture ${i} ${tag}`, width: 256, height: 256 }));
    imports.push(`import p${i} from './p${i}.imageprompt.json?imageprompt';`);
  }
  await writeFile(join(root, 'src', 'main.js'), `${imports.join('\n')}\nglobalThis.__imageprompt = [${imports.map((_, i) => `p${i + 1}`).join(', ')}];\n`);
  return root;
}

/** Builds a site; resolves to the bundle's text, after running it. */
async function viteBuild(root: string, options: { apiKey?: string; baseURL?: string; remote?: unknown } = {}): Promise<string> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: options.apiKey, baseURL: options.baseURL ?? sim.url, logger, retry: { baseDelayMs: 20, maxBackoffMs: 100 }, remote: options.remote as string | undefined })],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return readFile(js, 'utf8');
}

const POISON = 'globalThis.__pwned = 1';
const pwned = () => (globalThis as { __pwned?: number }).__pwned;

/** The local manifests of a machine's cache. */
async function localManifests(root: string): Promise<{ path: string; manifest: Manifest }[]> {
  const dir = join(root, '.imageprompt', 'entries');
  return Promise.all((await readdir(dir)).map(async (name) => ({ path: join(dir, name), manifest: JSON.parse(await readFile(join(dir, name), 'utf8')) as Manifest })));
}

describe('a manifest is data: checked by a schema, never code', () => {
  it('a shared manifest carrying code is a miss with one warning; the bundle gets no code and the local cache no copy', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `s3://${BUCKET}/poison/${tag}`;
    const env = { ...s3Writer, AWS_ENDPOINT_URL_S3: s3.url };
    await withEnv(env, async () => viteBuild(await machine(tag), { apiKey: KEY, remote }));
    const objects = (await listFiles(join(s3.dir, BUCKET, 'poison', tag))).filter((f) => f.includes('/entries/') && f.endsWith('._S3rver_object'));
    expect(objects).toHaveLength(4);
    // someone with write access to the bucket rewrites one manifest; its request (and so its key) is untouched
    const manifest = JSON.parse(await readFile(objects[0]!, 'utf8')) as Record<string, unknown>;
    manifest.seed = `1, ${POISON}, 1`;
    (manifest.outputs as Record<string, unknown>[])[0]!.width = `256, ${POISON}, 256`;
    await writeFile(objects[0]!, JSON.stringify(manifest));
    sim.script({ clearRequests: true });
    logs = [];
    const reader = await machine(tag);
    const bundle = await withEnv(env, () => viteBuild(reader, { apiKey: KEY, remote }));
    expect(bundle).not.toContain('__pwned');
    expect(pwned()).toBeUndefined();
    expect(paid()).toBe(1);
    expect(logs.filter((l) => /the shared cache's entry [0-9a-f]{12} is not a valid manifest \(field "seed"/.test(l)), logs.join('\n')).toHaveLength(1);
    for (const { manifest: local } of await localManifests(reader)) expect(typeof local.seed).toBe('number');
  });

  it('a committed manifest carrying code is a miss with one warning, and the next build replaces it', async () => {
    const root = await machine(randomBytes(4).toString('hex'));
    await viteBuild(root, { apiKey: KEY });
    const [first] = await localManifests(root);
    const poisoned = { ...first!.manifest, seed: `1; ${POISON}` } as unknown as Manifest;
    poisoned.outputs[0]!.meta = { ...poisoned.outputs[0]!.meta!, color: `"}; ${POISON}; //` };
    await writeFile(first!.path, JSON.stringify(poisoned));
    sim.script({ clearRequests: true });
    logs = [];
    const bundle = await viteBuild(root, { apiKey: KEY });
    expect(bundle).not.toContain('__pwned');
    expect(pwned()).toBeUndefined();
    expect(paid()).toBe(1);
    expect(logs.filter((l) => /cache entry [0-9a-f]{12} is not a valid manifest/.test(l))).toHaveLength(1);
    expect(typeof JSON.parse(await readFile(first!.path, 'utf8')).seed).toBe('number');
  });
});

describe('bounded in size and time', () => {
  let server: ScriptedServer | undefined;
  beforeEach(() => async () => {
    await server?.close();
    server = undefined;
  });

  it('16 prompt files against a shared cache that never answers cost one operation timeout: one warning, no queued request sent', async () => {
    server = await startScriptedServer(() => {
      // holds every request open and never answers
    });
    const root = await machine(randomBytes(4).toString('hex'), 16);
    await withEnv({ IMAGEPROMPT_REMOTE_TOKEN: 'writer-token' }, () => viteBuild(root, { apiKey: KEY, remote: { url: `${server!.url}/cache`, timeoutMs: 500 } }));
    expect(paid()).toBe(16);
    // what was in flight when the first timed out (8 at a time), and nothing after
    expect(server.seen.length).toBeLessThanOrEqual(8);
    expect(logs.filter((l) => /is not answering \(.*no (whole )?answer in time\); it is set aside for the rest of this run/.test(l)), logs.join('\n')).toHaveLength(1);
  });

  it('a store that sends a byte now and then is cut by the whole-operation deadline, not waited on byte by byte', async () => {
    let trickled = 0;
    server = await startScriptedServer((req, res) => {
      if (req.method !== 'GET') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => {
        trickled += 1;
        res.write(' ');
        if (trickled > 200) res.end('}');
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    const root = await machine(randomBytes(4).toString('hex'));
    await withEnv({ IMAGEPROMPT_REMOTE_TOKEN: undefined }, () => viteBuild(root, { apiKey: KEY, remote: { url: `${server!.url}/cache`, timeoutMs: 1000 } }));
    expect(paid()).toBe(4);
    expect(server.seen.length).toBeLessThanOrEqual(4);
    expect(logs.filter((l) => /no whole answer in time\); it is set aside/.test(l))).toHaveLength(1);
  });

  it('a manifest that never ends is cut off at a megabyte: a miss, one warning', async () => {
    let written = 0;
    server = await startScriptedServer((req, res) => {
      if (req.method !== 'GET' || !req.url?.includes('/entries/')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const more = () => {
        while (written < 256 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (written < 256 * 1024 * 1024) res.once('drain', more);
      };
      res.write('{"version":1,"padding":"');
      more();
    });
    const root = await machine(randomBytes(4).toString('hex'), 1);
    await withEnv({ IMAGEPROMPT_REMOTE_TOKEN: undefined }, () => viteBuild(root, { apiKey: KEY, remote: `${server!.url}/cache` }));
    expect(paid()).toBe(1);
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(logs.filter((l) => /is larger than a manifest can be/.test(l)), logs.join('\n')).toHaveLength(1);
  });
});

describe('secrets go only where the user sent them', () => {
  it('S3 requests do not follow a redirect: no signed header or session token reaches the address it names', async () => {
    const rogue = await startScriptedServer((_req, res) => res.writeHead(404).end());
    const redirecting = await startScriptedServer((req, res) => res.writeHead(307, { location: `${rogue.url}${req.url}` }).end());
    try {
      const token = `session-${randomBytes(8).toString('hex')}`;
      const root = await machine(randomBytes(4).toString('hex'), 1);
      await withEnv({ ...s3Writer, AWS_SESSION_TOKEN: token, AWS_ENDPOINT_URL_S3: redirecting.url }, () => viteBuild(root, { apiKey: KEY, remote: `s3://${BUCKET}/redirect` }));
      expect(redirecting.seen.some((r) => r.headers['x-amz-security-token'] === token)).toBe(true);
      expect(rogue.seen).toEqual([]);
      expect(logs.join('\n')).toMatch(/HTTP 307, a redirect, which is not followed/);
      expect(logs.join('\n')).not.toContain(token);
    } finally {
      await rogue.close();
      await redirecting.close();
    }
  });

  it('a bearer token for plain http:// to another host is refused before any request', async () => {
    const root = await machine(randomBytes(4).toString('hex'), 1);
    const result = await runNode([bin, 'check'], { cwd: root, env: { IMAGEPROMPT_REMOTE: 'http://cache.example.invalid/team', IMAGEPROMPT_REMOTE_TOKEN: 'team-token-123' } });
    expect(result.code, result.output).toBe(2);
    expect(result.output).toMatch(/IMAGEPROMPT_REMOTE_TOKEN would be sent over plain http:\/\/ to cache\.example\.invalid/);
    expect(result.output).not.toContain('team-token-123');
  });
});

describe('review writes only where it may', () => {
  it('refuses the project root, a source folder and a directory it did not write, touching nothing', async () => {
    const root = await machine(randomBytes(4).toString('hex'));
    await viteBuild(root, { apiKey: KEY });
    await mkdir(join(root, 'notes'));
    await writeFile(join(root, 'notes', 'todo.txt'), 'keep me');
    const before = await listFiles(root);
    for (const [out, why] of [
      ['.', /--out \. is the project root/],
      ['..', /--out \.\. holds the project root/],
      ['src', /--out src is a directory that imageprompt did not write/],
      ['.imageprompt', /--out \.imageprompt is or holds the image cache/],
      ['notes', /--out notes is a directory that imageprompt did not write/],
    ] as const) {
      const result = await runNode([bin, 'review', '--out', out], { cwd: root, env: {} });
      expect(result.code, result.output).toBe(2);
      expect(result.output).toMatch(why);
    }
    expect(await listFiles(root)).toEqual(before);
    // its own directory, written twice: the second run empties what the first wrote
    for (let run = 0; run < 2; run++) {
      const result = await runNode([bin, 'review', '--out', 'site'], { cwd: root, env: {} });
      expect(result.code, result.output).toBe(0);
    }
    expect(existsSync(join(root, 'site', '.imageprompt-review'))).toBe(true);
    // a prompt file put into it makes it a source folder: refused even with the marker
    await writeFile(join(root, 'site', 'x.imageprompt.json'), '{}');
    const refused = await runNode([bin, 'review', '--out', 'site'], { cwd: root, env: {} });
    expect(refused.code, refused.output).toBe(2);
    expect(refused.output).toMatch(/--out site holds site\/x\.imageprompt\.json/);
  });

  it('shows a damaged entry as damaged instead of failing: an image that does not decode, a manifest that fails its checks', async () => {
    const root = await machine(randomBytes(4).toString('hex'));
    await viteBuild(root, { apiKey: KEY });
    const [undecodable, invalid] = await localManifests(root);
    // only the header left; the manifest names the new digest and size, so only decoding finds it
    const output = undecodable!.manifest.outputs[0]!;
    const blob = join(root, '.imageprompt', 'blobs', `${output.digest}.webp`);
    const bytes = (await readFile(blob)).subarray(0, 64);
    const digest = createHash('sha256').update(bytes).digest('hex');
    await writeFile(blob, bytes);
    await rename(blob, join(root, '.imageprompt', 'blobs', `${digest}.webp`));
    Object.assign(output, { digest, bytes: bytes.length, file: `blobs/${digest}.webp` });
    await writeFile(undecodable!.path, JSON.stringify(undecodable!.manifest));
    await writeFile(invalid!.path, JSON.stringify({ ...invalid!.manifest, flags: '<script>' }));
    const result = await runNode([bin, 'review', '--json'], { cwd: root, env: {} });
    expect(result.code, result.output).toBe(0);
    const html = await readFile(join(root, 'imageprompt-review', 'index.html'), 'utf8');
    expect(html.match(/<span class="badge damaged">damaged<\/span>/g)).toHaveLength(2);
    expect(html).toMatch(/its cached image cannot be decoded/);
    expect(html).toMatch(/its cache entry is damaged/);
  });
});

describe('interrupted and lost work repairs itself', () => {
  it('Ctrl-C during a generation gives back the local lock and the shared-cache lease; the next run does not wait for itself', async () => {
    const store = await startConditionalStore();
    try {
      const root = await machine(randomBytes(4).toString('hex'), 1);
      const env = { VENICE_BASE_URL: sim.url, VENICE_API_KEY: KEY, IMAGEPROMPT_REMOTE: `${store.url}/cache`, IMAGEPROMPT_REMOTE_TOKEN: 'writer-token' };
      sim.script({ latencyMs: 60_000 });
      const child = spawn(process.execPath, [bin, 'generate'], { cwd: root, env: childEnv(env), stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
      // the order, not the clock: the lease and the lock are taken before Venice is asked
      const leaseTaken = async () => [...store.objects.keys()].some((k) => k.startsWith('/cache/leases/') && k.endsWith('.json'));
      for (let i = 0; i < 600 && !(await leaseTaken()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await leaseTaken()).toBe(true);
      expect((await readdir(join(root, '.imageprompt', 'locks'))).filter((f) => f.endsWith('.lock'))).toHaveLength(1);
      child.kill('SIGINT');
      expect(await exited).not.toBe(0);
      expect([...store.objects.keys()].filter((k) => k.includes('/leases/'))).toEqual([]);
      expect((await readdir(join(root, '.imageprompt', 'locks'))).filter((f) => f.endsWith('.lock'))).toEqual([]);

      // a lease this host's dead process left (killed with no chance to release it) is taken over at once
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => dead.on('exit', resolve));
      const check = JSON.parse((await runNode([bin, 'check', '--json'], { cwd: root, env: { IMAGEPROMPT_REMOTE: `${store.url}/cache` } })).output) as { missing: { key: string }[] };
      const key = check.missing[0]!.key;
      store.objects.set(`/cache/leases/${key}.json`, Buffer.from(JSON.stringify({ host: hostname(), pid: dead.pid, until: Date.now() + 600_000 })));
      sim.script({ latencyMs: 0 });
      const again = await runNode([bin, 'generate'], { cwd: root, env, timeoutMs: 60_000 });
      expect(again.code, again.output).toBe(0);
      expect(again.output).not.toMatch(/waiting .* for another machine/);
      expect(again.output).toMatch(/1 generated/);
    } finally {
      await store.close();
    }
  });

  it('a shared entry whose blob is lost: check does not call it cached, the next machine pays once and repairs it, the one after pays nothing', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `s3://${BUCKET}/repair/${tag}`;
    const env = { ...s3Writer, AWS_ENDPOINT_URL_S3: s3.url };
    const first = await machine(tag);
    await withEnv(env, () => viteBuild(first, { apiKey: KEY, remote }));
    const lost = (await localManifests(first))[0]!.manifest.outputs[0]!;
    for (const file of await listFiles(join(s3.dir, BUCKET, 'repair', tag, 'blobs'))) if (file.includes(lost.digest)) await rm(file);
    const second = await machine(tag);
    const check = await runNode([bin, 'check', '--json', '--remote', remote], { cwd: second, env: { ...env, VENICE_BASE_URL: deadVenice } });
    // the warning first (on stderr), then the JSON
    expect(check.output).toMatch(/warning: the shared cache's entry [0-9a-f]{12} is damaged \(its blob blobs\/[0-9a-f]{64}\.webp is missing\)/);
    expect(JSON.parse(check.output.slice(check.output.indexOf('{')))).toMatchObject({ ok: false, cached: 3 });
    sim.script({ clearRequests: true });
    logs = [];
    await withEnv(env, () => viteBuild(second, { apiKey: KEY, remote }));
    expect(paid()).toBe(1);
    expect(logs.join('\n')).toMatch(/entry [0-9a-f]{12} is damaged \(its blob blobs\/[0-9a-f]{64}\.webp is missing\)/);
    sim.script({ clearRequests: true });
    await withEnv({ ...env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }, async () => viteBuild(await machine(tag), { baseURL: deadVenice, remote }));
    expect(paid()).toBe(0);
  });
});
