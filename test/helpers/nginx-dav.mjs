/**
 * nginx from Debian serving WebDAV PUT, GET and DELETE under /cache/ on 127.0.0.1, its files in a
 * scratch folder: the plain HTTP shared cache of the tests and the benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { davServer } from './dav-process.mjs';
import { freePort } from './free-port.mjs';

export const NGINX = '/usr/sbin/nginx';
export const hasNginx = existsSync(NGINX);

/** @returns {Promise<{ url: string; dir: string; close(): Promise<void> }>} */
export async function startNginxDav() {
  const dir = await mkdtemp(join(tmpdir(), 'imageprompt-dav-'));
  const www = join(dir, 'www');
  await mkdir(join(www, 'cache'), { recursive: true });
  const port = await freePort();
  const temp = (name) => `${name}_temp_path ${join(dir, name)};`;
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 512; }
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
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c.toString()));
  return davServer(child, {
    url: `http://127.0.0.1:${port}`,
    method: 'GET',
    stopSignal: 'SIGQUIT',
    dir,
    files: join(www, 'cache'),
    name: 'nginx',
    why: async () => stderr,
  });
}
