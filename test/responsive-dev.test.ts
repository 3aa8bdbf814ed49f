/**
 * Responsive images in the Vite dev server: the module names every derivative at once, and each is
 * served (made on this machine from the image the module shows) when the page asks for it. With no
 * key the dev server shows placeholders, and placeholders come in the same sizes, so a page's
 * `<picture>` works before any image is paid for.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import imageprompt from 'unplugin-imageprompt/vite';
import type { Logger } from 'imageprompt';
import { copyFixture, removeFixture } from './helpers/fixtures.js';

let root: string;
let server: ViteDevServer;
let base: string;
const warnings: string[] = [];
const logger: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };

beforeAll(async () => {
  root = await copyFixture('vite-app');
  const hero = join(root, 'src', 'hero.imageprompt.json');
  await writeFile(hero, JSON.stringify({ ...(JSON.parse(await readFile(hero, 'utf8')) as object), responsive: { widths: [200, 400, 2000], formats: ['avif', 'webp'] } }));
  const main = join(root, 'src', 'main.js');
  await writeFile(main, `${await readFile(main, 'utf8')}import heroUrl from './hero.imageprompt.json?imageprompt&url';\nglobalThis.__imageprompt.heroUrl = heroUrl;\n`);
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    // no key: the dev server shows placeholders
    plugins: [imageprompt({ apiKey: '', logger, baseURL: 'http://127.0.0.1:9/api/v1' })],
    server: { port: 0, host: '127.0.0.1' },
  });
  await server.listen();
  base = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
});
afterAll(async () => {
  await server?.close();
  await removeFixture(root);
});

describe('responsive images in the Vite dev server', () => {
  it('hands out every derivative of a placeholder and serves each, at its width and in its format', async () => {
    const main = await (await fetch(`${base}/src/main.js`)).text();
    const url = /from\s+"([^"]*hero\.imageprompt\.json[^"]*)"/.exec(main)![1]!;
    const code = await (await fetch(`${base}${url}`)).text();
    expect(code).toContain('export const placeholder = true;');
    const srcsets = [...code.matchAll(/srcset: ("[^"]*"(?: \+ "[^"]*")*)/g)].map((m) => (JSON.parse(`[${m[1]!.replaceAll(' + ', ',')}]`) as string[]).join(''));
    // the image's sources (AVIF, WebP) and its srcset (WebP), in the module's code
    const avif = srcsets.find((s) => s.includes('.avif'))!;
    expect(avif).toMatch(/^\/@imageprompt\/hero-200w-[0-9a-f]{16}\.avif 200w, \/@imageprompt\/hero-400w-[0-9a-f]{16}\.avif 400w$/);
    for (const [format, srcset] of [['heif', avif], ['webp', srcsets.find((s) => s.includes('.webp'))!]] as const) {
      for (const entry of srcset.split(', ')) {
        const [path, width] = entry.split(' ');
        const response = await fetch(`${base}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type')).toBe(format === 'heif' ? 'image/avif' : 'image/webp');
        const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
        expect([meta.format, `${meta.width}w`, meta.height]).toEqual([format, width, (Number(width!.slice(0, -1)) * 400) / 640]);
      }
    }
    // 2000 is wider than the 640-px image: left out, and said once
    expect(warnings.filter((w) => /hero\.imageprompt\.json: responsive widths 2000 are wider than the 640-px image/.test(w))).toHaveLength(1);
  });

  it('gives the URL alone with ?imageprompt&url: the image served, and no size made for that import', async () => {
    const main = await (await fetch(`${base}/src/main.js`)).text();
    const url = /from\s+"([^"]*hero\.imageprompt\.json[^"]*url[^"]*)"/.exec(main)![1]!;
    const code = await (await fetch(`${base}${url}`)).text();
    const src = /^export default ("[^"]*");$/m.exec(code)?.[1];
    expect(src, code).toMatch(/^"\/@imageprompt\/hero-[0-9a-f]{16}\.webp"$/);
    expect(code).not.toMatch(/srcset|blurDataURL|variants/);
    const response = await fetch(`${base}${JSON.parse(src!) as string}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    await expect(sharp(Buffer.from(await response.arrayBuffer())).metadata()).resolves.toMatchObject({ format: 'webp', width: 640, height: 400 });
  });
});
