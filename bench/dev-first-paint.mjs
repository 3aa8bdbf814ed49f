/**
 * Time to first paint of a Vite dev page importing N prompt files, in Chromium: every import a miss
 * (Venice answering each image in 4 s; the page shows placeholders at once) against every import a
 * hit (the images from the cache). Each run starts a fresh dev server with Vite's dependency cache
 * removed; misses and hits alternate.
 */
import { spawn } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { freePort } from '../test/helpers/free-port.mjs';
import { freshDir, promptOf } from './projects.mjs';

/** A Vite app whose page shows N prompt-file images. */
export function devPage(name, n) {
  const dir = freshDir(name);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><body><main id="images"></main><script type="module" src="/src/main.js"></script></body></html>\n');
  writeFileSync(join(dir, 'vite.config.mjs'), "import imageprompt from 'unplugin-imageprompt/vite';\nexport default { logLevel: 'warn', plugins: [imageprompt({ logger: { info() {}, warn() {}, error: console.error } })] };\n");
  const lines = [];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, 'src', `p${i}.imageprompt.json`), JSON.stringify({ ...promptOf(i), prompt: `dev page image ${i}` }));
    lines.push(`import p${i} from './p${i}.imageprompt.json?imageprompt';`);
  }
  lines.push(`for (const image of [${Array.from({ length: n }, (_, i) => `p${i}`).join(', ')}]) {`);
  lines.push('  const img = new Image(image.width, image.height);');
  lines.push('  img.src = image.src;');
  lines.push("  document.getElementById('images').append(img);");
  lines.push('}');
  writeFileSync(join(dir, 'src', 'main.js'), `${lines.join('\n')}\n`);
  return dir;
}

async function startVite(viteBin, cwd, env) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [viteBin, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  // the page sets logLevel 'warn', so no address is printed: wait until the server answers
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`vite exited before it answered on ${url}`);
    const up = await fetch(`${url}/`).then(() => true, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))) };
}

/** Seconds from navigation until every image on the page has loaded. */
async function firstPaint(browser, url, n) {
  const page = await browser.newPage();
  const started = performance.now();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction((count) => document.images.length === count && Array.from(document.images).every((img) => img.complete && img.naturalWidth > 0), n, { timeout: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  await page.close();
  return seconds;
}

/**
 * `hits` is a copy of the page whose cache is full; misses run on fresh copies of `template`
 * against `slowSim` (4 s per image).
 */
export async function measureFirstPaint({ viteBin, template, hits, n, runs, key, slowSimUrl, median }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const env = { VENICE_API_KEY: key, VENICE_BASE_URL: slowSimUrl };
  const once = async (kind, i) => {
    let dir = hits;
    if (kind === 'miss') {
      dir = `${template}-miss-${i}`;
      rmSync(dir, { recursive: true, force: true });
      cpSync(template, dir, { recursive: true });
    }
    rmSync(join(dir, 'node_modules', '.vite'), { recursive: true, force: true });
    const server = await startVite(viteBin, dir, env);
    try {
      return await firstPaint(browser, `${server.url}/`, n);
    } finally {
      await server.stop();
      if (kind === 'miss') rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await once('miss', 'warm');
    await once('hit', 'warm');
    const misses = [];
    const hitTimes = [];
    for (let i = 0; i < runs; i++) {
      misses.push(await once('miss', i));
      hitTimes.push(await once('hit', i));
    }
    return { miss: median(misses), hit: median(hitTimes) };
  } finally {
    await browser.close();
  }
}
