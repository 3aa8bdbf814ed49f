/**
 * Real servers for the shared cache, on 127.0.0.1: an S3-protocol server (s3rver, which does not
 * check signatures), nginx serving WebDAV PUT/GET from Debian, and a fault proxy that sits in front
 * of either and answers with scripted faults (500s, slow answers, cut bodies, refused writes, writes
 * done but answered with a 500).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type RequestListener, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface RunningStore {
  url: string;
  /** Where the objects live on disk, for tests that damage them. */
  dir: string;
  close(): Promise<void>;
}

export async function startS3(bucket: string): Promise<RunningStore> {
  const dir = await mkdtemp(join(tmpdir(), 'imageprompt-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { NGINX, hasNginx, startNginxDav } from './nginx-dav.mjs';
export { APACHE, hasApache, startApacheDav } from './apache-dav.mjs';

/** A fault for the next request of that method (any when unset) whose path matches `path` (any when unset). */
export type ProxyFault = { method?: string; path?: RegExp } & (
  | { kind: 'status'; status: number }
  /** the request reaches the store and is done there, but the client is told `status` */
  | { kind: 'lost-answer'; status: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'cut' }
);

export interface FaultProxy {
  url: string;
  /** Faults for the next matching requests, one request each. */
  faults: ProxyFault[];
  /** Every request seen: method and path. */
  seen: string[];
  close(): Promise<void>;
}

/** An HTTP proxy to `target` that answers scripted faults first, then passes requests through. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const faults: ProxyFault[] = [];
  const seen: string[] = [];
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const index = faults.findIndex((f) => (!f.method || f.method === req.method) && (!f.path || f.path.test(req.url ?? '')));
    const fault = index === -1 ? undefined : faults.splice(index, 1)[0];
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' }).end(`scripted ${fault.status}`);
      return;
    }
    const forward = () => {
      const upstream = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
        (answer: IncomingMessage) => {
          if (fault?.kind === 'lost-answer') {
            answer.resume();
            answer.on('end', () => res.writeHead(fault.status, { 'Content-Type': 'text/plain' }).end(`scripted ${fault.status} after the store's ${answer.statusCode}`));
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (fault?.kind === 'cut') {
            // half the body, then the connection drops
            const length = Number(answer.headers['content-length'] ?? 0);
            let sent = 0;
            answer.on('data', (chunk: Buffer) => {
              if (sent >= length / 2) return;
              res.write(chunk.subarray(0, Math.max(1, Math.floor(length / 2) - sent)));
              sent += chunk.length;
              if (sent >= length / 2) res.destroy();
            });
            answer.on('end', () => res.destroy());
            return;
          }
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (fault?.kind === 'slow') setTimeout(forward, fault.ms);
    else forward();
  });
  const listening = await listenLocally(server);
  return { url: `${listening.url}${to.pathname.replace(/\/+$/, '')}`, faults, seen, close: listening.close };
}

/** Passes a request on to another server (host, port, path and headers as given) and its answer back. */
export function relay(req: IncomingMessage, res: ServerResponse, to: RequestOptions): void {
  const upstream = request({ ...to, method: req.method }, (answer: IncomingMessage) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

/** Starts `server` on a free port of 127.0.0.1: its URL, and a close that cuts open connections. */
export async function listenLocally(server: Server, scheme: 'http' | 'https' = 'http'): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ForwardProxy {
  url: string;
  /** Every request it carried: method and absolute URL. */
  seen: string[];
  close(): Promise<void>;
}

/** A forward HTTP proxy on 127.0.0.1, as a company network has: it carries requests for `http://` URLs. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    // a client that uses a proxy names the whole URL in the request line
    const target = new URL(req.url ?? '');
    seen.push(`${req.method} ${target.href}`);
    relay(req, res, { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers: req.headers });
  });
  return { ...(await listenLocally(server)), seen };
}

export interface ScriptedServer {
  url: string;
  /** Every request seen: method, path and headers. */
  seen: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** A certificate and its key (PEM) for a server that speaks HTTPS. */
export interface TlsIdentity {
  key: string;
  cert: string;
}

/**
 * A server of the test's own on 127.0.0.1 that answers every request with `answer` (a store that
 * lies, stalls, redirects or never ends), over HTTPS when given a certificate. Open connections are
 * cut when it closes.
 */
export async function startScriptedServer(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void, tls?: TlsIdentity): Promise<ScriptedServer> {
  const seen: ScriptedServer['seen'] = [];
  const listener: RequestListener = (req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    answer(req, res);
  };
  const server = tls ? createTlsServer(tls, listener) : createServer(listener);
  return { ...(await listenLocally(server, tls ? 'https' : 'http')), seen };
}

/**
 * A small object store over HTTP (HTTPS given a certificate) that honours conditional creates
 * (`If-None-Match: *` on PUT: 201, then 412), as S3 since 2024, R2 and MinIO do: the store leases
 * need. Objects live in memory.
 */
export async function startConditionalStore(tls?: TlsIdentity): Promise<ScriptedServer & { objects: Map<string, Buffer> }> {
  const objects = new Map<string, Buffer>();
  const store = await startScriptedServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const body = objects.get(path);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length });
      return void res.end(req.method === 'GET' ? body : undefined);
    }
    if (req.method === 'DELETE') {
      const had = objects.delete(path);
      return void res.writeHead(had ? 204 : 404).end();
    }
    if (req.method === 'PUT') {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        if (req.headers['if-none-match'] === '*' && objects.has(path)) return void res.writeHead(412).end();
        objects.set(path, Buffer.concat(parts));
        res.writeHead(201).end();
      });
      return;
    }
    res.writeHead(405).end();
  }, tls);
  return { ...store, objects };
}
