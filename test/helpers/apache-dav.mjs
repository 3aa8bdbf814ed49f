/**
 * Apache httpd from Debian with mod_dav serving a WebDAV folder under /cache/ on 127.0.0.1, started
 * with a configuration file of the test's own: unlike nginx it honours `If-None-Match: *` on PUT
 * (201, then 412 once the object exists), so it is a real store for conditional creates, and like
 * any strict WebDAV server it wants a folder made (MKCOL) before a file is put in it.
 */
import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { davServer } from './dav-process.mjs';
import { freePort } from './free-port.mjs';

export const APACHE = '/usr/sbin/apache2';
export const hasApache = existsSync(APACHE);
const MODULES = '/usr/lib/apache2/modules';

/** @returns {Promise<{ url: string; dir: string; close(): Promise<void> }>} */
export async function startApacheDav() {
  const dir = await mkdtemp(join(tmpdir(), 'imageprompt-apache-'));
  const www = join(dir, 'www');
  await mkdir(join(www, 'cache'), { recursive: true });
  const port = await freePort();
  // httpd will not serve as root: as root it runs as www-data, which must own what it writes
  const root = process.getuid?.() === 0;
  if (root) for (const path of [dir, www, join(www, 'cache')]) await chown(path, 33, 33);
  const conf = join(dir, 'httpd.conf');
  await writeFile(
    conf,
    `ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${join(dir, 'httpd.pid')}
ErrorLog ${join(dir, 'error.log')}
LogLevel warn
${root ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule dav_module ${MODULES}/mod_dav.so
LoadModule dav_fs_module ${MODULES}/mod_dav_fs.so
DavLockDB ${join(dir, 'davlock')}
LimitRequestBody 209715200
DocumentRoot ${www}
<Directory ${www}>
  Dav On
  Require all granted
</Directory>
`,
  );
  const child = spawn(APACHE, ['-f', conf, '-DFOREGROUND'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir } });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c.toString()));
  return davServer(child, {
    url: `http://127.0.0.1:${port}`,
    method: 'OPTIONS',
    stopSignal: 'SIGTERM',
    dir,
    files: join(www, 'cache'),
    name: 'apache2',
    why: async () => `${stderr}${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`,
  });
}
