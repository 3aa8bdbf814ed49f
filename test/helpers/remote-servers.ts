/**
 * Real servers for the shared cache, on 127.0.0.1: an S3-protocol server (s3rver, which does not
 * check signatures), nginx serving WebDAV PUT/GET from Debian, and a fault proxy that sits in front
 * of either and answers with scripted faults (500s, slow answers, cut bodies, refused writes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './processes.js';

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

export const NGINX = '/usr/sbin/nginx';
export const hasNginx = existsSync(NGINX);

/** nginx with WebDAV PUT and DELETE under /cache/, its files in a scratch folder. */
export async function startNginxDav(): Promise<RunningStore> {
  const dir = await mkdtemp(join(tmpdir(), 'imageprompt-dav-'));
  const www = join(dir, 'www');
  await mkdir(join(www, 'cache'), { recursive: true });
  const port = await freePort();
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location /cache/ {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 200m;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/cache/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `${url}/cache`,
    dir: join(www, 'cache'),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type ProxyFault =
  | { kind: 'status'; status: number; method?: string }
  | { kind: 'slow'; ms: number; method?: string }
  | { kind: 'cut'; method?: string };

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
    const index = faults.findIndex((f) => !f.method || f.method === req.method);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${to.pathname.replace(/\/+$/, '')}`,
    faults,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
