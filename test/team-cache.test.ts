/**
 * The shared cache, against real servers on 127.0.0.1: an S3-protocol server, nginx with WebDAV, a
 * fault proxy in front of them and an unstorage driver. Two machines are two cache directories
 * sharing one remote: the first pays, the second builds with Venice unreachable, byte-identical.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { createStorage } from 'unstorage';
import memoryDriver from 'unstorage/drivers/memory';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, type Logger, type Manifest } from 'imageprompt';
import { copyFixture, filesContaining, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, freePort, runNode, commandOf } from './helpers/processes.js';
import { withEnv } from './helpers/environment.js';
import { hasNginx, startConditionalStore, startFaultProxy, startForwardProxy, startNginxDav, startS3, type FaultProxy, type RunningStore } from './helpers/remote-servers.js';

const KEY = secretKey();
const AWS_SECRET = `aws-secret-${randomBytes(8).toString('hex')}`;
const SIGNING_KEY = `signing-${randomBytes(12).toString('hex')}`;
const BUCKET = 'team-cache';
let sim: VeniceSim;
let s3: RunningStore;
let dav: RunningStore | undefined;
let deadVenice: string;
const machines: string[] = [];
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
  s3 = await startS3(BUCKET);
  if (hasNginx || process.env.CI) dav = await startNginxDav();
  // a port nothing listens on: Venice is unreachable from the second machine
  deadVenice = `http://127.0.0.1:${await freePort()}/api/v1`;
});
afterAll(async () => {
  await sim.close();
  await s3.close();
  await dav?.close();
  for (const dir of machines) await removeFixture(dir);
});
beforeEach(() => {
  logs = [];
  sim.script({ clearRequests: true, clearFaults: true, resetLimits: true, latencyMs: 0 });
});

/** A fresh clone of the site: its own cache directory, prompts made unique to this test. */
async function machine(tag: string): Promise<string> {
  const root = await copyFixture('slow-site');
  machines.push(root);
  for (let i = 1; i <= 4; i++) {
    await writeFile(join(root, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `picture ${i} ${tag}`, width: 256, height: 256 }));
  }
  return root;
}

// s3rver knows one access key id and does not check signatures, so any secret passes
const s3Writer = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_ENDPOINT_URL_S3: undefined as string | undefined };
const s3Reader = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL_S3: undefined as string | undefined };

/** Builds one machine's site; resolves to the sha256 of each emitted image, in import order. */
async function viteBuild(root: string, options: { apiKey?: string; remote?: unknown; baseURL?: string; mode?: 'frozen' } = {}): Promise<string[]> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [
      imageprompt({
        apiKey: options.apiKey,
        baseURL: options.baseURL ?? sim.url,
        logger,
        retry: { baseDelayMs: 20, maxBackoffMs: 100 },
        mode: options.mode,
        remote: options.remote as string | undefined,
      }),
    ],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  const shown = (globalThis as unknown as { __imageprompt: { src: string }[] }).__imageprompt;
  return Promise.all(shown.map(async (image) => sha256(await readFile(join(root, 'dist', image.src)))));
}

const paid = () => sim.imageRequests().filter((r) => r.status === 200).length;

describe('S3 (s3rver)', () => {
  it('the first machine pays and uploads; the second builds Vite with Venice unreachable, byte-identical, and frozen mode counts remote hits', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `s3://${BUCKET}/team/${tag}`;
    const endpoint = { AWS_ENDPOINT_URL_S3: s3.url };
    const first = await machine(tag);
    const images = await withEnv({ ...s3Writer, ...endpoint }, () => viteBuild(first, { apiKey: KEY, remote }));
    expect(paid()).toBe(4);
    // blobs first, manifest last: everything is on the server once the build has ended
    const stored = (await listFiles(s3.dir)).map((f) => relative(s3.dir, f));
    expect(stored.filter((f) => /team\/[0-9a-f]+\/entries\/[0-9a-f]{64}\.json\._S3rver_object$/.test(f))).toHaveLength(4);
    expect(stored.filter((f) => /team\/[0-9a-f]+\/blobs\/[0-9a-f]{64}\.webp\._S3rver_object$/.test(f))).toHaveLength(4);
    // no secret reached the server
    expect(await filesContaining(s3.dir, KEY)).toEqual([]);
    expect(await filesContaining(s3.dir, AWS_SECRET)).toEqual([]);

    const second = await machine(tag);
    const again = await withEnv({ ...s3Reader, ...endpoint }, () => viteBuild(second, { baseURL: deadVenice, remote }));
    expect(again).toEqual(images);
    expect(paid()).toBe(4);
    // each says where it came from: the shared cache, not a local hit
    expect(logs.filter((l) => /: restored from the shared cache$/.test(l))).toHaveLength(4);
    expect(logs.filter((l) => /: cache hit$/.test(l))).toHaveLength(0);
    expect(logs).toContain('4 images: 4 cached (4 restored from the shared cache), 0 generated, 0 failed');

    const third = await machine(tag);
    expect(await withEnv({ ...s3Reader, ...endpoint }, () => viteBuild(third, { baseURL: deadVenice, remote, mode: 'frozen' }))).toEqual(images);
  });

  it('the second machine builds Astro from the shared cache, configured by the environment alone', async () => {
    const first = await copyFixture('astro-site');
    const second = await copyFixture('astro-site');
    machines.push(first, second);
    const astro = binOf('astro', 'bin/astro.mjs');
    const remote = `s3://${BUCKET}/astro/${randomBytes(4).toString('hex')}`;
    const env = { IMAGEPROMPT_REMOTE: remote, AWS_ENDPOINT_URL_S3: s3.url };
    const one = await runNode([astro, 'build'], { cwd: first, env: { ...env, ...s3Writer, AWS_ENDPOINT_URL_S3: s3.url, VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
    expect(one.code, one.output).toBe(0);
    const requests = paid();
    expect(requests).toBeGreaterThanOrEqual(2);
    const two = await runNode([astro, 'build'], { cwd: second, env: { ...env, VENICE_API_KEY: undefined, VENICE_BASE_URL: deadVenice } });
    expect(two.code, two.output).toBe(0);
    expect(two.output).toMatch(/restored from the shared cache/);
    expect(paid()).toBe(requests);
    const images = async (root: string) =>
      Object.fromEntries(
        await Promise.all(
          (await listFiles(join(root, 'dist', '_astro'))).filter((f) => /\.(webp|png|jpe?g)$/.test(f)).map(async (f) => [relative(root, f), sha256(await readFile(f))]),
        ),
      );
    expect(await images(second)).toEqual(await images(first));
  });

  it('the command: check and plan count remote hits, pull fills the local cache, push uploads what the remote lacks', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `s3://${BUCKET}/cli/${tag}`;
    const bin = commandOf('imageprompt');
    const writer = await machine(tag);
    // generated with no shared cache: push uploads it afterwards
    await viteBuild(writer, { apiKey: KEY });
    const env = { ...s3Writer, AWS_ENDPOINT_URL_S3: s3.url, VENICE_BASE_URL: sim.url };
    const pushed = await runNode([bin, 'push', '--remote', remote], { cwd: writer, env });
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).toMatch(/4 pushed to s3:\/\/team-cache\/cli\/[0-9a-f]+, 0 already there, 0 failed/);
    expect((await runNode([bin, 'push', '--remote', remote], { cwd: writer, env })).output).toMatch(/0 pushed .*, 4 already there/);
    // read-only by the mode, with credentials that may write: the way out is the mode, not credentials
    const readOnly = await runNode([bin, 'push', '--remote', remote], { cwd: writer, env: { ...env, IMAGEPROMPT_REMOTE_MODE: 'read' } });
    expect(readOnly.code).toBe(2);
    expect(readOnly.output).toMatch(/read-only here because IMAGEPROMPT_REMOTE_MODE=read\n  → unset IMAGEPROMPT_REMOTE_MODE \(or set it to write\)/);
    const noCredentials = await runNode([bin, 'push', '--remote', remote], { cwd: writer, env: { ...env, ...s3Reader, AWS_ENDPOINT_URL_S3: s3.url } });
    expect(noCredentials.output).toMatch(/no credentials that may write were given\n  → set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);

    const reader = await machine(tag);
    const readerEnv = { ...s3Reader, AWS_ENDPOINT_URL_S3: s3.url, VENICE_BASE_URL: deadVenice, IMAGEPROMPT_REMOTE: remote };
    const check = await runNode([bin, 'check', '--json'], { cwd: reader, env: readerEnv });
    expect(JSON.parse(check.output)).toMatchObject({ ok: true, files: 4, cached: 4, local: 0, onlyShared: expect.arrayContaining(['src/p1.imageprompt.json']) });
    // and in words: where each image is
    const said = await runNode([bin, 'check'], { cwd: reader, env: readerEnv });
    expect(said.output).toMatch(/^shared {3}src\/p1\.imageprompt\.json {2}\(only in the shared cache\)$/m);
    expect(said.output).toMatch(/all 4 prompt files are valid and cached \(0 here, 4 only in the shared cache at s3:\/\/team-cache\/cli\/[0-9a-f]+; `imageprompt pull` brings them here\)/);
    const plan = await runNode([bin, 'plan'], { cwd: reader, env: readerEnv });
    expect(plan.output).toMatch(/0 of 4 prompt files to generate, estimated \$0/);
    const pull = await runNode([bin, 'pull'], { cwd: reader, env: readerEnv });
    expect(pull.code, pull.output).toBe(0);
    expect(pull.output).toMatch(/4 pulled from s3:\/\/team-cache\/cli\/[0-9a-f]+, 0 already local, 0 in no cache, 0 failed, 0 invalid/);
    expect(await listFiles(join(reader, '.imageprompt', 'entries'))).toHaveLength(4);
    expect((await runNode([bin, 'check'], { cwd: reader, env: readerEnv })).output).toMatch(/all 4 prompt files are valid and cached\n$/);
    expect(pushed.output + check.output + pull.output).not.toContain(AWS_SECRET);
  });
});

/** A machine whose four images were paid for with no shared cache, and a folder for them on the store at `url`. */
async function paidFor(url: string): Promise<{ tag: string; remote: string; bin: string; writer: string }> {
  const tag = randomBytes(4).toString('hex');
  const writer = await machine(tag);
  await viteBuild(writer, { apiKey: KEY });
  return { tag, remote: `${url}/cache/${tag}`, bin: commandOf('imageprompt'), writer };
}

describe('a shared cache over HTTPS', () => {
  it('push and pull go through a store with a certificate of its own once Node is given its CA; without it the certificate is refused, said once as a setting to mend', async () => {
    const certs = await mkdtemp(join(tmpdir(), 'imageprompt-tls-'));
    const cert = join(certs, 'cert.pem');
    const key = join(certs, 'key.pem');
    // a self-signed certificate for 127.0.0.1, as a company's own store might have
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const store = await startConditionalStore({ key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') });
    try {
      const { tag, remote, bin, writer } = await paidFor(store.url);
      const trusted = { NODE_EXTRA_CA_CERTS: cert, IMAGEPROMPT_REMOTE_TOKEN: 'tls-token', VENICE_BASE_URL: deadVenice };
      const pushed = await runNode([bin, 'push', '--remote', remote], { cwd: writer, env: trusted });
      expect(pushed.code, pushed.output).toBe(0);
      expect(pushed.output).toMatch(/4 pushed to https:\/\/127\.0\.0\.1:\d+\/cache\/[0-9a-f]+, 0 already there, 0 failed/);

      const reader = await machine(tag);
      const pulled = await runNode([bin, 'pull', '--remote', remote], { cwd: reader, env: trusted });
      expect(pulled.code, pulled.output).toBe(0);
      expect(pulled.output).toMatch(/4 pulled from https:\/\/127\.0\.0\.1:\d+\/cache\/[0-9a-f]+, 0 already local, 0 in no cache, 0 failed/);
      expect(await listFiles(join(reader, '.imageprompt', 'entries'))).toHaveLength(4);
      const requests = store.seen.length;
      expect(store.seen.every((r) => r.headers.authorization === 'Bearer tls-token')).toBe(true);

      const stranger = await machine(tag);
      const refused = await runNode([bin, 'pull', '--remote', remote], { cwd: stranger, env: { ...trusted, NODE_EXTRA_CA_CERTS: undefined } });
      expect(refused.output).toMatch(
        /the shared cache at https:\/\/127\.0\.0\.1:\d+\/cache\/[0-9a-f]+ is misconfigured: GET https:\/\/\S+\/entries\/[0-9a-f]{64}\.json: the server's certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); if the store uses a certificate of its own or its company's CA, give that CA to Node with NODE_EXTRA_CA_CERTS=<file\.pem>/,
      );
      expect(refused.output.match(/is misconfigured/g)).toHaveLength(1);
      // not "in no cache": nothing could be looked for, and the command says it failed
      expect(refused.code).toBe(1);
      expect(refused.output).toMatch(/0 pulled from https:\S+, 0 already local, 0 in no cache, 4 failed, 0 invalid/);
      // the handshake failed: no request, and so no token, reached the server
      expect(store.seen).toHaveLength(requests);
      expect(await listFiles(join(stranger, '.imageprompt', 'entries')).catch(() => [])).toHaveLength(0);
    } finally {
      await store.close();
      await rm(certs, { recursive: true, force: true });
    }
  });
});

describe('a shared cache behind a proxy', () => {
  it("goes through Node's proxy settings (NODE_USE_ENV_PROXY=1 with HTTP_PROXY), as fetch did, and straight to the store without them", async () => {
    const store = await startConditionalStore();
    const proxy = await startForwardProxy();
    try {
      const { tag, remote, bin, writer } = await paidFor(store.url);
      const env = { IMAGEPROMPT_REMOTE_TOKEN: 'proxy-token', VENICE_BASE_URL: deadVenice, HTTP_PROXY: proxy.url, NO_PROXY: '', NODE_USE_ENV_PROXY: undefined };
      const pushed = await runNode([bin, 'push', '--remote', remote], { cwd: writer, env });
      expect(pushed.output).toMatch(/4 pushed to http:\/\/127\.0\.0\.1:\d+\/cache\/[0-9a-f]+, 0 already there, 0 failed/);
      expect(proxy.seen).toEqual([]);

      const reader = await machine(tag);
      const pulled = await runNode([bin, 'pull', '--remote', remote], { cwd: reader, env: { ...env, NODE_USE_ENV_PROXY: '1' } });
      expect(pulled.code, pulled.output).toBe(0);
      expect(pulled.output).toMatch(/4 pulled from http:\/\/127\.0\.0\.1:\d+\/cache\/[0-9a-f]+, 0 already local, 0 in no cache, 0 failed/);
      // each entry's manifest and blob, asked of the store through the proxy
      expect(proxy.seen.filter((r) => r.startsWith(`GET ${remote}/entries/`))).toHaveLength(4);
      expect(proxy.seen.filter((r) => r.startsWith(`GET ${remote}/blobs/`))).toHaveLength(4);
      expect(await listFiles(join(reader, '.imageprompt', 'entries'))).toHaveLength(4);
    } finally {
      await proxy.close();
      await store.close();
    }
  });
});

describe('prune --remote', () => {
  it('removes from the shared cache only what no prompt file references; dry-run lists exactly that', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `s3://${BUCKET}/prune/${tag}`;
    const bin = commandOf('imageprompt');
    const root = await machine(tag);
    const env = { ...s3Writer, AWS_ENDPOINT_URL_S3: s3.url };
    await withEnv(env, () => viteBuild(root, { apiKey: KEY, remote }));
    // p4 changes: its old entry and blob are referenced by nothing any more
    await writeFile(join(root, 'src', 'p4.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: `picture 4 changed ${tag}`, width: 256, height: 256 }));
    await withEnv(env, () => viteBuild(root, { apiKey: KEY, remote }));
    const objects = async () => (await listFiles(join(s3.dir, BUCKET, 'prune', tag))).filter((f) => f.endsWith('._S3rver_object')).map((f) => relative(join(s3.dir, BUCKET, 'prune', tag), f).replace(/\._S3rver_object$/, ''));
    expect((await objects()).filter((o) => !o.startsWith('leases/'))).toHaveLength(10);
    const runEnv = { ...env, VENICE_BASE_URL: sim.url };
    // uploaded just now: another branch's build may still want it, so nothing goes yet
    const fresh = await runNode([bin, 'prune', '--remote', remote], { cwd: root, env: runEnv });
    expect(fresh.code, fresh.output).toBe(0);
    expect(fresh.output).toMatch(/shared cache: 0 objects removed, 1 unreferenced kept \(uploaded within the last day/);
    expect(fresh.output).toMatch(/Only this checkout's prompt files were counted/);
    expect((await objects()).filter((o) => !o.startsWith('leases/'))).toHaveLength(10);
    // two days later (s3rver dates an object by its file)
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    for (const file of await listFiles(join(s3.dir, BUCKET, 'prune', tag))) await utimes(file, twoDaysAgo, twoDaysAgo);
    const dry = await runNode([bin, 'prune', '--remote', remote, '--dry-run', '--json'], { cwd: root, env: runEnv });
    expect(dry.code, dry.output).toBe(0);
    const planned = (JSON.parse(dry.output) as { remoteRemoved: string[] }).remoteRemoved.sort();
    expect(planned.map((p) => p.split('/')[0])).toEqual(['blobs', 'entries']);
    expect((await objects()).filter((o) => !o.startsWith('leases/'))).toHaveLength(10);
    const real = await runNode([bin, 'prune', '--remote', remote], { cwd: root, env: runEnv });
    expect(real.code, real.output).toBe(0);
    expect(real.output).toMatch(/shared cache: 2 objects removed, 0 unreferenced kept/);
    const left = (await objects()).filter((o) => !o.startsWith('leases/'));
    expect(left).toHaveLength(8);
    for (const path of planned) expect(left).not.toContain(path);
    // the site as it is now still builds from the shared cache alone, paying nothing
    sim.script({ clearRequests: true });
    const changed = await machine(tag);
    await writeFile(join(changed, 'src', 'p4.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: `picture 4 changed ${tag}`, width: 256, height: 256 }));
    logs = [];
    expect(await withEnv({ ...s3Reader, AWS_ENDPOINT_URL_S3: s3.url }, () => viteBuild(changed, { baseURL: deadVenice, remote }))).toHaveLength(4);
    expect(paid()).toBe(0);
  });
});

describe.skipIf(!hasNginx && !process.env.CI)('HTTP (nginx WebDAV) and its faults', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await startFaultProxy(dav!.url);
    return () => proxy.close();
  });

  /** The first machine fills the shared cache through the proxy; resolves to the tag and its images. */
  async function filled(env: Record<string, string | undefined> = {}): Promise<{ tag: string; images: string[]; remote: string }> {
    const tag = randomBytes(4).toString('hex');
    const remote = `${proxy.url}/${tag}`;
    const first = await machine(tag);
    const images = await withEnv({ IMAGEPROMPT_REMOTE_TOKEN: 'writer-token', ...env }, () => viteBuild(first, { apiKey: KEY, remote }));
    return { tag, images, remote };
  }

  const readBuild = async (tag: string, remote: string, env: Record<string, string | undefined> = {}, apiKey?: string) =>
    withEnv({ IMAGEPROMPT_REMOTE_TOKEN: undefined, ...env }, async () => viteBuild(await machine(tag), apiKey ? { apiKey, remote } : { baseURL: deadVenice, remote }));

  it('two machines share one WebDAV folder: the second pays nothing and gets the same bytes', async () => {
    const { tag, images, remote } = await filled();
    expect(proxy.seen.filter((s) => /^PUT .*\/(blobs|entries)\//.test(s))).toHaveLength(8);
    expect(await readBuild(tag, remote)).toEqual(images);
    expect(paid()).toBe(4);
  });

  it('a lone 500 is tried again: the shared cache stays in use, and nothing is paid', async () => {
    const { tag, images, remote } = await filled();
    logs = [];
    sim.script({ clearRequests: true });
    proxy.faults.push({ kind: 'status', status: 500, method: 'GET' });
    const seen = proxy.seen.length;
    expect(await readBuild(tag, remote)).toEqual(images);
    expect(paid()).toBe(0);
    expect(proxy.faults).toEqual([]);
    expect(logs.filter((l) => /not answering|could not|set aside/.test(l)), logs.join('\n')).toEqual([]);
    expect(logs).toContain('4 images: 4 cached (4 restored from the shared cache), 0 generated, 0 failed');
    // the failed GET and its retry, beside the manifest and blob of each image
    expect(proxy.seen.slice(seen).filter((r) => r.startsWith('GET'))).toHaveLength(9);
  });

  it('a 500 on every try, or a download cut short, sets the shared cache aside for the run: one warning, nothing waits on it again', async () => {
    const failing = Array.from({ length: 40 }, () => ({ kind: 'status', status: 500, method: 'GET' }) as const);
    for (const [faults, tries] of [[failing, 3], [[{ kind: 'cut', method: 'GET' }], 1]] as const) {
      const { tag, remote } = await filled();
      logs = [];
      sim.script({ clearRequests: true });
      proxy.faults.push(...faults);
      const seen = proxy.seen.length;
      expect(await readBuild(tag, remote, {}, KEY)).toHaveLength(4);
      expect(logs.filter((l) => /shared cache .* is not answering .* set aside for the rest of this run/.test(l)), logs.join('\n')).toHaveLength(1);
      // only what was already in flight when the fault came, each tried at most `tries` times: no queued operation is sent
      expect(proxy.seen.slice(seen).filter((r) => r.startsWith('GET')).length).toBeLessThanOrEqual(8 * tries);
      expect(proxy.faults.length).toBeLessThan(faults.length);
      proxy.faults.length = 0;
    }
  });

  it('a slow answer is waited for', async () => {
    const { tag, images, remote } = await filled();
    proxy.faults.push({ kind: 'slow', ms: 1500, method: 'GET' });
    expect(await readBuild(tag, remote)).toEqual(images);
    expect(paid()).toBe(4);
  });

  it('a dead remote: the build goes on locally after one warning, not one per image', async () => {
    const tag = randomBytes(4).toString('hex');
    const remote = `http://127.0.0.1:${await freePort()}/cache/${tag}`;
    const images = await withEnv({ IMAGEPROMPT_REMOTE_TOKEN: 'writer-token' }, async () => viteBuild(await machine(tag), { apiKey: KEY, remote }));
    expect(images).toHaveLength(4);
    expect(paid()).toBe(4);
    expect(logs.filter((l) => /shared cache .* is not answering/.test(l))).toHaveLength(1);
    expect(logs.join('\n')).not.toMatch(/could not (read|upload)/);
  });

  it('a read-only token refused on PUT: the build succeeds, one warning, and push is the way to upload later', async () => {
    proxy.faults.push(...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 403, method: 'PUT' })));
    const { images } = await filled();
    expect(images).toHaveLength(4);
    const refused = logs.filter((l) => /uploads to the shared cache at .* are refused \(PUT .*: HTTP 403/.test(l));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/`imageprompt push` uploads them/);
  });

  it('a blob changed on the server costs a regeneration, never a wrong image', async () => {
    const { tag, remote } = await filled();
    const blob = (await listFiles(join(dav!.dir, tag, 'blobs')))[0]!;
    await writeFile(blob, Buffer.concat([await readFile(blob), Buffer.from('poison')]));
    sim.script({ clearRequests: true });
    const images = await readBuild(tag, remote, {}, KEY);
    expect(paid()).toBe(1);
    const served = new Set(sim.imageRequests().flatMap((r) => r.servedImages));
    expect(images.filter((digest) => served.has(digest))).toHaveLength(1);
    expect(logs.some((l) => /blob blobs\/[0-9a-f]{64}\.webp does not match its digest/.test(l)), logs.join('\n')).toBe(true);
  });

  it('a manifest changed on the server: without a signing key its request must still match its key', async () => {
    const { tag, remote } = await filled();
    const entry = (await listFiles(join(dav!.dir, tag, 'entries')))[0]!;
    const manifest = JSON.parse(await readFile(entry, 'utf8')) as Manifest;
    manifest.request.prompt = 'something else entirely';
    await writeFile(entry, JSON.stringify(manifest));
    sim.script({ clearRequests: true });
    await readBuild(tag, remote, {}, KEY);
    expect(paid()).toBe(1);
    expect(logs.some((l) => /entry [0-9a-f]{12} does not belong to its key/.test(l))).toBe(true);
  });

  it('with a signing key: a re-pointed manifest, an unsigned one and a wrong key are misses; the right key is trusted', async () => {
    const signed = { IMAGEPROMPT_REMOTE_SIGNING_KEY: SIGNING_KEY };
    const { tag, images, remote } = await filled(signed);
    const entries = await listFiles(join(dav!.dir, tag, 'entries'));
    const manifests = await Promise.all(entries.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest & { signature?: string }));
    expect(manifests.every((m) => m.signature?.startsWith('hmac-sha256:'))).toBe(true);
    expect(await filesContaining(dav!.dir, SIGNING_KEY)).toEqual([]);

    // the right key: trusted
    expect(await readBuild(tag, remote, signed)).toEqual(images);
    expect(paid()).toBe(4);
    // a wrong key: every entry a miss, regenerated, with a warning
    sim.script({ clearRequests: true });
    await readBuild(tag, remote, { IMAGEPROMPT_REMOTE_SIGNING_KEY: `${SIGNING_KEY}-other` }, KEY);
    expect(paid()).toBe(4);
    expect(logs.some((l) => /is not signed with IMAGEPROMPT_REMOTE_SIGNING_KEY; treated as a miss/.test(l))).toBe(true);
    // one manifest re-pointed at another entry's image: its signature no longer holds
    const [a, b] = [manifests[0]!, manifests[1]!];
    await writeFile(entries[0]!, JSON.stringify({ ...a, outputs: b.outputs }));
    sim.script({ clearRequests: true });
    const rebuilt = await readBuild(tag, remote, signed, KEY);
    expect(paid()).toBe(1);
    expect(new Set(rebuilt).size).toBe(4);
    // an unsigned manifest, for a reader holding the key
    const { signature: _s, ...unsigned } = manifests[2]!;
    await writeFile(entries[2]!, JSON.stringify(unsigned));
    logs = [];
    sim.script({ clearRequests: true });
    await readBuild(tag, remote, signed, KEY);
    expect(logs.some((l) => /is unsigned; treated as a miss/.test(l))).toBe(true);
  });
});

describe('a storage driver object (unstorage)', () => {
  it('works as the shared cache from a JS config, and two machines missing the same key at once pay once', async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const tag = randomBytes(4).toString('hex');
    const [one, two] = [await machine(tag), await machine(tag)];
    sim.script({ latencyMs: 800 });
    const engine = (root: string) => new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger, remote: storage });
    const file = (root: string) => join(root, 'src', 'p1.imageprompt.json');
    const [a, b] = [engine(one), engine(two)];
    const results = await Promise.all([a.load(file(one)), new Promise((r) => setTimeout(r, 100)).then(() => b.load(file(two)))]);
    await Promise.all([a.drain(), b.drain()]);
    expect(paid(), logs.join('\n')).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(['cached', 'generated']);
    expect(results[0].images[0]!.digest).toBe(results[1].images[0]!.digest);
    expect((await storage.getKeys('entries')).length).toBe(1);
  });
});
