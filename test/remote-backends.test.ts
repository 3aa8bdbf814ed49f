/**
 * One conformance suite for every shared-cache backend: each must read, write, test, remove and
 * (where it can) list objects the same way, treat 404 as "no object", never follow a redirect, and
 * say truthfully whether it creates conditionally. Run against real stores on 127.0.0.1: s3rver
 * (S3), s3rver behind a gate that checks every request's SigV4 signature as S3 does (s3rver checks
 * none), nginx with WebDAV (HTTP), Apache httpd with mod_dav (HTTP; honours `If-None-Match: *`, and
 * wants folders made before files are put in them), a store of the test's own that honours
 * `If-None-Match: *` (HTTP), and an unstorage driver. A new backend proves itself by joining the list.
 */
import { randomBytes } from 'node:crypto';
import { createStorage } from 'unstorage';
import memoryDriver from 'unstorage/drivers/memory';
import fsDriver from 'unstorage/drivers/fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEngineOptions, silentLogger } from 'imageprompt';
import { withEnv } from './helpers/environment.js';
import { hasApache, hasNginx, startApacheDav, startConditionalStore, startNginxDav, startS3, startScriptedServer, type RunningStore, type ScriptedServer } from './helpers/remote-servers.js';
import { startSignatureGate, type GateCredentials, type SignatureGate } from './helpers/signature-gate.js';

/** What the suite needs of a backend: the interface as the shared cache uses it. */
interface Backend {
  label: string;
  get(path: string, signal: AbortSignal): Promise<{ stream: AsyncIterable<Uint8Array>; size: number | undefined } | undefined>;
  put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: { ifAbsent?: boolean; contentType?: string }, signal: AbortSignal): Promise<boolean>;
  exists(path: string, signal: AbortSignal): Promise<boolean>;
  remove(path: string, signal: AbortSignal): Promise<void>;
  list?(folder: string, signal: AbortSignal): Promise<{ path: string; modifiedMs?: number }[]>;
}

interface Subject {
  name: string;
  /** The backend, as the settings make it from a URL or driver and the environment. */
  make(): Promise<Backend>;
  /** Whether the store honours `If-None-Match: *` (a second conditional create answers false). */
  conditional: boolean;
  /** Whether it can list its objects (needed by `prune --remote`). */
  lists: boolean;
}

const signal = () => AbortSignal.timeout(10_000);
const text = async (body: Awaited<ReturnType<Backend['get']>>) => {
  const parts: Uint8Array[] = [];
  for await (const part of body!.stream) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
};

/** The backend the engine makes for a remote setting, under an environment. */
async function backendFor(remote: unknown, env: Record<string, string | undefined> = {}): Promise<Backend> {
  return withEnv(env, async () => resolveEngineOptions({ remote: remote as string, logger: silentLogger }, process.env).remote!.backend as unknown as Backend);
}

let s3: RunningStore;
let gate: SignatureGate;
const gateCredentials: GateCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'gate/secret+key', sessionToken: 'gate-session' };
const gateEnv = (secret = gateCredentials.secretAccessKey) => ({
  AWS_ENDPOINT_URL_S3: gate.url,
  AWS_ACCESS_KEY_ID: gateCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: secret,
  AWS_SESSION_TOKEN: gateCredentials.sessionToken,
});
let dav: RunningStore | undefined;
let apache: RunningStore | undefined;
let conditional: ScriptedServer & { objects: Map<string, Buffer> };
let fsDir: string;

beforeAll(async () => {
  s3 = await startS3('conformance');
  gate = await startSignatureGate(s3.url, gateCredentials);
  if (hasNginx || process.env.CI) dav = await startNginxDav();
  if (hasApache || process.env.CI) apache = await startApacheDav();
  conditional = await startConditionalStore();
  fsDir = await mkdtemp(join(tmpdir(), 'imageprompt-fs-driver-'));
});
afterAll(async () => {
  await gate.close();
  await s3.close();
  await dav?.close();
  await apache?.close();
  await conditional.close();
  await rm(fsDir, { recursive: true, force: true });
});

const subjects: Subject[] = [
  {
    name: 'S3 (s3rver)',
    make: () => backendFor(`s3://conformance/${randomBytes(4).toString('hex')}`, { AWS_ENDPOINT_URL_S3: s3.url, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }),
    // s3rver ignores If-None-Match; AWS S3 (since 2024), R2 and MinIO honour it
    conditional: false,
    lists: true,
  },
  {
    name: 'S3 (s3rver behind a signature check)',
    // a prefix with characters a path must encode: the signature covers the path as sent
    make: () => backendFor(`s3://conformance/signed ${randomBytes(4).toString('hex')}+=`, gateEnv()),
    conditional: false,
    lists: true,
  },
  {
    name: 'HTTP (nginx WebDAV)',
    make: () => backendFor(`${dav!.url}/${randomBytes(4).toString('hex')}`, { IMAGEPROMPT_REMOTE_TOKEN: 'token' }),
    conditional: false,
    lists: false,
  },
  {
    name: 'HTTP (Apache httpd with mod_dav)',
    make: () => backendFor(`${apache!.url}/${randomBytes(4).toString('hex')}`, { IMAGEPROMPT_REMOTE_TOKEN: 'token' }),
    conditional: true,
    lists: false,
  },
  {
    name: 'HTTP (a store that honours If-None-Match)',
    make: () => backendFor(`${conditional.url}/${randomBytes(4).toString('hex')}`, { IMAGEPROMPT_REMOTE_TOKEN: 'token' }),
    conditional: true,
    lists: false,
  },
  {
    name: 'storage driver (unstorage memory)',
    make: () => backendFor(createStorage({ driver: memoryDriver() })),
    // check-then-set in one process: conditional there, though not across processes
    conditional: true,
    lists: true,
  },
  {
    name: 'storage driver (unstorage fs)',
    make: () => backendFor(createStorage({ driver: fsDriver({ base: join(fsDir, randomBytes(4).toString('hex')) }) })),
    conditional: true,
    lists: true,
  },
];

describe.each(subjects)('$name', (subject) => {
  // decided when the tests are collected, before the stores start
  const skip = (subject.name.includes('nginx') && !(hasNginx || process.env.CI)) || (subject.name.includes('Apache') && !(hasApache || process.env.CI));

  it.skipIf(skip)('a missing object is no object: get gives undefined, exists false, remove no error', async () => {
    const backend = await subject.make();
    expect(await backend.get('entries/missing.json', signal())).toBeUndefined();
    expect(await backend.exists('entries/missing.json', signal())).toBe(false);
    await backend.remove('entries/missing.json', signal());
  });

  it.skipIf(skip)('writes bytes and streams and reads them back whole, with their size', async () => {
    const backend = await subject.make();
    expect(await backend.put('entries/a.json', Buffer.from('{"a":1}'), 7, { contentType: 'application/json' }, signal())).toBe(true);
    const blob = randomBytes(300_000);
    const streamed = async function* () {
      for (let at = 0; at < blob.length; at += 65_536) yield blob.subarray(at, at + 65_536);
    };
    expect(await backend.put('blobs/b.webp', streamed, blob.length, { contentType: 'image/webp' }, signal())).toBe(true);
    expect(await text(await backend.get('entries/a.json', signal()))).toBe('{"a":1}');
    const body = await backend.get('blobs/b.webp', signal());
    if (body!.size !== undefined) expect(body!.size).toBe(blob.length);
    const parts: Uint8Array[] = [];
    for await (const part of body!.stream) parts.push(part);
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    expect(await backend.exists('blobs/b.webp', signal())).toBe(true);
    await backend.remove('blobs/b.webp', signal());
    expect(await backend.exists('blobs/b.webp', signal())).toBe(false);
  });

  it.skipIf(skip)(`a conditional create ${subject.conditional ? 'refuses' : 'cannot refuse (the store ignores it)'} an object that exists`, async () => {
    const backend = await subject.make();
    expect(await backend.put('leases/k.json', Buffer.from('1'), 1, { ifAbsent: true }, signal())).toBe(true);
    expect(await backend.put('leases/k.json', Buffer.from('2'), 1, { ifAbsent: true }, signal())).toBe(!subject.conditional);
    expect(await text(await backend.get('leases/k.json', signal()))).toBe(subject.conditional ? '1' : '2');
  });

  it.skipIf(skip || !subject.lists)('lists the objects under a folder, with their age where the store keeps one', async () => {
    const backend = await subject.make();
    for (const name of ['entries/x.json', 'entries/y.json', 'blobs/z.webp']) await backend.put(name, Buffer.from(name), name.length, {}, signal());
    const listed = await backend.list!('entries', signal());
    expect(listed.map((o) => o.path).sort()).toEqual(['entries/x.json', 'entries/y.json']);
    for (const object of listed) if (object.modifiedMs !== undefined) expect(Math.abs(Date.now() - object.modifiedMs)).toBeLessThan(24 * 3600_000);
  });
});

describe('S3 requests are signed as they are sent', () => {
  it('every request of the suite passed the signature check, and a wrong secret is refused as a misconfiguration', async () => {
    const signed = gate.checked.filter((c) => c.valid);
    // every kind of request the suite made: reads, heads, writes of bytes and of streams, removes, lists
    expect(new Set(signed.map((c) => c.method))).toEqual(new Set(['GET', 'HEAD', 'PUT', 'DELETE']));
    expect(signed.some((c) => c.path.includes('list-type=2'))).toBe(true);
    expect(gate.checked.filter((c) => !c.valid)).toEqual([]);

    const wrong = await backendFor('s3://conformance/wrong-secret', gateEnv('not the secret'));
    await expect(wrong.get('entries/k.json', signal())).rejects.toThrow(/AWS_SECRET_ACCESS_KEY does not belong to the access key id/);
    expect(gate.checked.at(-1)).toMatchObject({ method: 'GET', valid: false, why: 'the signature does not match the request as it arrived' });
  });
});

/** The two backends that speak HTTP themselves, made for a server of the test's own. */
const httpMakers: [string, (url: string) => Promise<Backend>][] = [
  ['S3', (url) => backendFor('s3://conformance/redirect', { AWS_ENDPOINT_URL_S3: url, AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' })],
  ['HTTP', (url) => backendFor(`${url}/cache`, { IMAGEPROMPT_REMOTE_TOKEN: 'token' })],
];

describe('HTTP-speaking backends', () => {
  it.each(httpMakers)('%s: a 307 is an error naming it, and the address it names hears nothing', async (_name, make) => {
    const rogue = await startScriptedServer((_req, res) => res.writeHead(200).end('stolen'));
    const redirecting = await startScriptedServer((req, res) => res.writeHead(307, { location: `${rogue.url}${req.url}` }).end());
    try {
      const backend = await make(redirecting.url);
      await expect(backend.get('entries/k.json', signal())).rejects.toThrow(/HTTP 307, a redirect, which is not followed/);
      await expect(backend.put('entries/k.json', Buffer.from('x'), 1, {}, signal())).rejects.toThrow(/redirect/);
      expect(rogue.seen).toEqual([]);
    } finally {
      await rogue.close();
      await redirecting.close();
    }
  });

  it.each(httpMakers)('%s: an answer in a content coding is refused (the bytes read would not be the bytes stored), and no coding is asked for', async (_name, make) => {
    const gzipping = await startScriptedServer((_req, res) => res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': 4 }).end('\x1f\x8b\x08\x00'));
    try {
      const backend = await make(gzipping.url);
      await expect(backend.get('blobs/b.png', signal())).rejects.toThrow(/the answer is encoded \(Content-Encoding: gzip\) although none was asked for; serve the shared cache's files as they are/);
      expect(gzipping.seen[0]!.headers['accept-encoding'] ?? 'identity').toBe('identity');
    } finally {
      await gzipping.close();
    }
  });

  it.each(httpMakers)('%s: one request after another goes over one kept-alive connection, whatever each answer was', async (_name, make) => {
    const sockets = new Set<number | undefined>();
    const blob = randomBytes(200_000);
    const store = await startScriptedServer((req, res) => {
      sockets.add(req.socket.remotePort);
      req.resume();
      req.on('end', () => {
        const missing = (req.url ?? '').includes('missing');
        if (req.method === 'PUT') res.writeHead(201, { 'Content-Length': 0 }).end();
        else if (req.method === 'DELETE') res.writeHead(204).end();
        else if (missing) res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 }).end(req.method === 'HEAD' ? undefined : 'not found');
        else res.writeHead(200, { 'Content-Length': blob.length }).end(req.method === 'HEAD' ? undefined : blob);
      });
    });
    try {
      const backend = await make(store.url);
      expect(await backend.get('entries/missing.json', signal())).toBeUndefined();
      const body = await backend.get('blobs/b.png', signal());
      const parts: Uint8Array[] = [];
      for await (const part of body!.stream) parts.push(part);
      expect(Buffer.concat(parts).equals(blob)).toBe(true);
      expect(await backend.exists('blobs/b.png', signal())).toBe(true);
      expect(await backend.exists('blobs/missing.png', signal())).toBe(false);
      expect(await backend.put('entries/a.json', Buffer.from('{}'), 2, {}, signal())).toBe(true);
      expect(await backend.put('blobs/c.png', async function* () { yield blob; }, blob.length, {}, signal())).toBe(true);
      await backend.remove('blobs/c.png', signal());
      expect(store.seen).toHaveLength(7);
      expect(sockets.size).toBe(1);
    } finally {
      await store.close();
    }
  });
});
