#!/usr/bin/env node
/**
 * The browser tests drive Debian's Chromium (never a downloaded browser). This makes sure it is
 * there before the tests start: on a Debian machine where we are root it installs the package,
 * saying so; anywhere else it stops with the command to run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !process.env.CHROMIUM_PATH;
if (!canInstall) {
  console.error(`The browser tests need Chromium at ${path}. Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}
console.log('Chromium is missing: installing Debian\'s chromium package for the browser tests (apt-get install -y chromium).');
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
