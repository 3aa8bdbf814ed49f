#!/usr/bin/env node
/**
 * The tests use four programs from Debian: Chromium for the browser tests (never a downloaded
 * browser), nginx, whose WebDAV module serves the shared-cache tests, Apache httpd, whose mod_dav
 * honours conditional creates (the shared cache's leases), and openssl, which makes the certificate
 * of the HTTPS shared-cache test. This makes sure all are there before the
 * tests start: on a Debian machine where we are root it installs what is missing,
 * saying so; anywhere else it stops with the command to run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const needed = [
  { path: chromium, pkg: 'chromium', custom: Boolean(process.env.CHROMIUM_PATH), why: 'the browser tests' },
  { path: '/usr/sbin/nginx', pkg: 'nginx', custom: false, why: 'the shared-cache tests (WebDAV)' },
  { path: '/usr/sbin/apache2', pkg: 'apache2', custom: false, why: 'the shared-cache lease tests (WebDAV with conditional creates)' },
  { path: '/usr/bin/openssl', pkg: 'openssl', custom: false, why: 'the HTTPS shared-cache test (a certificate of its own)' },
].filter((n) => !existsSync(n.path));
if (needed.length === 0) process.exit(0);

const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !needed.some((n) => n.custom);
if (!canInstall) {
  for (const n of needed) console.error(`${n.why} need ${n.path}. Install it (Debian: apt-get install -y ${n.pkg})${n.pkg === 'chromium' ? ' or set CHROMIUM_PATH' : ''}.`);
  process.exit(1);
}
const packages = needed.map((n) => n.pkg);
console.log(`Installing Debian's ${packages.join(' and ')} for ${needed.map((n) => n.why).join(' and ')} (apt-get install -y ${packages.join(' ')}).`);
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
