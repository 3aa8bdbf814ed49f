/**
 * `imageprompt review`: the static review site of the playground opened from file:// in Chromium
 * (every image shown, no failed request, filters and search by keyboard, an automated accessibility
 * check), and a `--since` review of a git repository with one changed, one added and one removed
 * prompt file, showing the right before/after pairs.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, silentLogger, type Manifest } from 'imageprompt';
import { REPO_DIR, copyFixture, copyProject, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode, startServer, commandOf } from './helpers/processes.js';
import { launchBrowser, openPage, screenshot } from './helpers/browser.js';

const KEY = secretKey();
const CLI = commandOf('imageprompt');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let sim: VeniceSim;
let browser: Browser;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await sim.close();
  for (const dir of dirs) await removeFixture(dir);
});

/** Generates every prompt file given, as a build would. */
async function fill(root: string, files: string[]): Promise<void> {
  const engine = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
  for (const file of files) await engine.load(join(root, file));
  await engine.drain();
}

async function review(root: string, args: string[] = []) {
  const result = await runNode([CLI, 'review', ...args], { cwd: root, env: { VENICE_API_KEY: undefined } });
  expect(result.code, result.output).toBe(0);
  return result.output;
}

const countText = (page: Page) => page.locator('#count').textContent();

/** Thumbnails load lazily: a page tall enough to show them all, then every one loaded. */
async function loadAll(page: Page): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 6000 });
  await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
}

describe('imageprompt review of the playground', () => {
  let root: string;
  let page: Page;
  let failures: string[];

  beforeAll(async () => {
    root = await copyProject(join(REPO_DIR, 'playground', 'vite'), 'review-playground');
    dirs.push(root);
    const prompts = (await listFiles(join(root, 'src'))).filter((f) => f.endsWith('.imageprompt.json')).map((f) => f.slice(root.length + 1));
    await fill(root, prompts);
    // one prompt file not generated yet, one invalid
    await writeFile(join(root, 'src', 'assets', 'later.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'A harbour at night, never generated', width: 512, height: 384 }));
    await writeFile(join(root, 'src', 'broken.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'broken', width: 'wide' }));
    const output = await review(root, ['--markdown']);
    expect(output).toMatch(/7 cached, 1 missing, 1 invalid/);
    ({ page, failures } = await openPage(browser, pathToFileURL(join(root, 'imageprompt-review', 'index.html')).href));
  }, 120_000);

  it('shows every cached image as a thumbnail, with no failed request and the summary at the top', async () => {
    await loadAll(page);
    const images = await page.evaluate(() => Array.from(document.images).map((img) => ({ src: img.getAttribute('src')!, width: img.naturalWidth })));
    // a thumbnail of every image the cache holds (variants each their own, a chain's every step) and of
    // the committed photo an edit starts from, nothing else
    const manifests = (await listFiles(join(root, '.imageprompt', 'entries'))).filter((f) => f.endsWith('.json'));
    const outputs = (await Promise.all(manifests.map(async (f) => (JSON.parse(await readFile(f, 'utf8')) as Manifest).outputs.map((o) => o.digest)))).flat();
    const photo = createHash('sha256').update(await readFile(join(root, 'src', 'assets', 'photos', 'team.jpg'))).digest('hex');
    expect(new Set(images.map((image) => /([0-9a-f]{64})-thumb/.exec(image.src)![1]))).toEqual(new Set([...outputs, photo]));
    for (const image of images) {
      expect(image.src).toMatch(/^images\/[0-9a-f]{64}-thumb\.webp$/);
      expect(image.width).toBeGreaterThan(0);
      expect(image.width).toBeLessThanOrEqual(320);
    }
    expect(await page.locator('.sheet .card').count()).toBe(9);
    const summary = await page.locator('.summary').textContent();
    expect(summary).toMatch(/cached\s*7/);
    expect(summary).toMatch(/missing\s*1/);
    expect(await page.locator('.card[data-status="invalid"] .error').textContent()).toMatch(/broken\.imageprompt\.json.*width/);
    await screenshot(page, 'review-playground');
    expect(failures).toEqual([]);
    // the full image is a click away, and it is the cached bytes
    const href = await page.locator('.card[data-status="cached"] a').first().getAttribute('href');
    const full = await readFile(join(root, 'imageprompt-review', href!));
    const blobs = await listFiles(join(root, '.imageprompt', 'blobs'));
    expect(blobs.some((b) => b.endsWith(href!.slice('images/'.length)))).toBe(true);
    expect(full.length).toBeGreaterThan(0);
  });

  it('shows a chain step by step, and an edit as the committed photo before and the edit after', async () => {
    const steps = async (file: string) =>
      page.evaluate((name) => {
        const card = Array.from(document.querySelectorAll('.sheet .card')).find((c) => c.querySelector('h3')!.textContent === name)!;
        return Array.from(card.querySelectorAll('.steps li')).map((li) => ({ text: Array.from(li.querySelectorAll('span')).map((s) => s.textContent).join(' | '), shown: li.querySelector('img')?.getAttribute('src') ?? null }));
      }, file);
    const mug = await steps('src/assets/mug.imageprompt.json');
    expect(mug.map((s) => s.text)).toEqual([
      'generate (z-image-turbo) | 512×512 webp · paid $0',
      'remove background | 512×512 png · paid $0',
      'upscale 2× | 1024×1024 png · paid $0',
    ]);
    expect(mug.every((s) => s.shown !== null)).toBe(true);
    const team = await steps('src/assets/team.imageprompt.json');
    expect(team.map((s) => s.text.split(' | ')[0])).toEqual(['committed image src/assets/photos/team.jpg', 'edit (firered-image-edit)']);
    const photo = createHash('sha256').update(await readFile(join(root, 'src', 'assets', 'photos', 'team.jpg'))).digest('hex');
    expect(team[0]!.shown).toBe(`images/${photo}-thumb.webp`);
    expect(team[1]!.shown).not.toBe(team[0]!.shown);
  });

  it('filters by status and searches, by keyboard', async () => {
    await page.locator('#status').focus();
    await page.keyboard.press('ArrowDown'); // every status → cached
    await page.keyboard.press('ArrowDown'); // → missing
    expect(await countText(page)).toBe('1 of 9 prompt files shown');
    expect(await page.locator('.sheet .card:not([hidden]) h3').textContent()).toBe('src/assets/later.imageprompt.json');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp'); // back to every status
    await page.keyboard.press('Tab'); // model
    await page.keyboard.press('Tab'); // folder
    await page.keyboard.press('Tab'); // search
    await page.keyboard.type('harbour');
    expect(await countText(page)).toBe('1 of 9 prompt files shown');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('pears');
    expect(await page.locator('.sheet .card:not([hidden]) h3').allTextContents()).toEqual(['src/assets/pears.imageprompt.json']);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    expect(await countText(page)).toBe('9 of 9 prompt files shown');
  });

  it('passes an automated accessibility check (axe-core) with no serious or critical violation', async () => {
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
      return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  });

  it('writes summary.md with the counts and the spend', async () => {
    const summary = await readFile(join(root, 'imageprompt-review', 'summary.md'), 'utf8');
    expect(summary).toMatch(/7 cached · 1 missing · 1 invalid — spent \$[\d.]+, missing images would cost \$[\d.]+/);
    // a job summary cannot reach a file of the job: the folder is named, nothing is linked
    expect(summary).not.toMatch(/\]\(/);
    expect(summary).toContain('The review site was written to imageprompt-review/index.html');
  });

  it('links summary.md to the address given with --site-url, and refuses one that is not a web address', async () => {
    const out = join(root, 'published-review');
    const linked = await runNode([CLI, 'review', '--markdown', '--out', out, '--site-url', 'https://example.github.io/site/pr-12/'], { cwd: root });
    expect(linked.code, linked.output).toBe(0);
    expect(await readFile(join(out, 'summary.md'), 'utf8')).toContain('[Open the review](https://example.github.io/site/pr-12/)');
    const refused = await runNode([CLI, 'review', '--markdown', '--out', out, '--site-url', 'javascript:alert(1)'], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/--site-url needs an http\(s\) URL where the review site is published, got "javascript:alert\(1\)"/);
  });
});

describe('imageprompt review --since a git ref', () => {
  it('pairs the image before and after a change, lists added and removed files, and the field diff', async () => {
    const root = await copyProject(join(REPO_DIR, 'test', 'fixtures', 'bundler-app'), 'review-since');
    dirs.push(root);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=test@example.invalid', '-c', 'user.name=test', ...args], { cwd: root, stdio: 'pipe' });
    await writeFile(join(root, '.gitignore'), '.imageprompt/\nimageprompt-review/\nnode_modules/\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    await fill(root, ['src/hero.imageprompt.json', 'src/pears.imageprompt.json', 'src/pictures/twin.imageprompt.json']);
    // changed, added, removed; twin unchanged
    await writeFile(join(root, 'src', 'hero.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'A lighthouse on a rocky coast at dawn', width: 640, height: 400, alt: 'At dawn' }));
    await writeFile(join(root, 'src', 'moon.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'A full moon over the sea', width: 512, height: 512 }));
    await rm(join(root, 'src', 'pears.imageprompt.json'));
    await fill(root, ['src/hero.imageprompt.json', 'src/moon.imageprompt.json']);

    const output = await review(root, ['--since', 'HEAD', '--markdown']);
    expect(output).toMatch(/since HEAD: 1 modified, 1 added, 1 removed/);
    // ignored by this repository: no note
    expect(output).not.toMatch(/git would list/);
    // a directory git would list as new files is pointed out once
    const elsewhere = await runNode([CLI, 'review', '--out', 'review-site'], { cwd: root });
    expect(elsewhere.output).toMatch(/note: git would list review-site\/ as new files; add "review-site\/" to \.gitignore/);
    await rm(join(root, 'review-site'), { recursive: true, force: true });
    const { page, failures } = await openPage(browser, pathToFileURL(join(root, 'imageprompt-review', 'index.html')).href);
    await loadAll(page);
    const changes = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.changes > li')).map((li) => ({
        title: li.querySelector('h3')!.textContent,
        before: Array.from(li.querySelectorAll('figure:first-child img')).map((img) => (img as HTMLImageElement).naturalWidth > 0),
        after: Array.from(li.querySelectorAll('figure:last-child img')).map((img) => (img as HTMLImageElement).naturalWidth > 0),
        fields: Array.from(li.querySelectorAll('tbody tr td:first-child')).map((td) => td.textContent),
        beforeSrc: li.querySelector('figure:first-child img')?.getAttribute('src') ?? null,
        afterSrc: li.querySelector('figure:last-child img')?.getAttribute('src') ?? null,
      })),
    );
    await screenshot(page, 'review-since');
    // as a reviewer meets it: a desktop window and a phone, nothing wider than the window, the
    // images before and after a change side by side at one height, no name cut off
    for (const [name, viewport] of [
      ['review-since-desktop', { width: 1400, height: 1000 }],
      ['review-since-phone', { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(viewport);
      const layout = await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        pairs: Array.from(document.querySelectorAll('.changes > li')).map((li) => {
          const tops = Array.from(li.querySelectorAll('figure')).map((f) => Math.round(f.getBoundingClientRect().top));
          return { tops };
        }),
        clipped: Array.from(document.querySelectorAll('h3, .card .file')).filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent),
      }));
      await screenshot(page, name);
      expect(layout.overflow, `${name}: the page is wider than the window`).toBeLessThanOrEqual(0);
      for (const pair of layout.pairs) expect(new Set(pair.tops).size, `${name}: before and after start at one height`).toBeLessThanOrEqual(1);
      expect(layout.clipped, `${name}: names cut off`).toEqual([]);
    }
    await page.setViewportSize({ width: 1280, height: 6000 });
    expect(changes.map((c) => c.title)).toEqual(['src/hero.imageprompt.json modified', 'src/moon.imageprompt.json added', 'src/pears.imageprompt.json removed']);
    const [hero, moon, pears] = changes;
    expect(hero!.before).toEqual([true]);
    expect(hero!.after).toEqual([true]);
    expect(hero!.beforeSrc).not.toBe(hero!.afterSrc);
    expect(hero!.fields).toContain('prompt');
    // its seed is derived from the request on both sides: it follows the prompt, and is no change of its own
    expect(hero!.fields).not.toContain('seed');
    expect(moon!.before).toEqual([]);
    expect(moon!.after).toEqual([true]);
    expect(pears!.before).toEqual([true, true]);
    expect(pears!.after).toEqual([]);
    expect(failures).toEqual([]);
    const summary = await readFile(join(root, 'imageprompt-review', 'summary.md'), 'utf8');
    // simulator drawings on both sides: nothing was paid, so the spend does not change
    expect(summary).toMatch(/\| src\/hero\.imageprompt\.json \| modified \| cached \| prompt \| no change \|/);
    expect(summary).toMatch(/\| src\/moon\.imageprompt\.json \| added \| cached \|/);
    expect(summary).toMatch(/\| src\/pears\.imageprompt\.json \| removed \| — \|/);
    await page.close();
  }, 120_000);

  it('says which ref it could not find', async () => {
    const root = dirs.at(-1)!;
    const result = await runNode([CLI, 'review', '--since', 'no-such-branch'], { cwd: root });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/git rev-parse .*no-such-branch.* failed[\s\S]*→ run the review inside a git repository/);
  });
});

describe('the live review page in the Vite dev server', () => {
  it('shows the prompt files the dev server loaded, and follows images landing and prompt files changing', async () => {
    const root = await copyFixture('dev-vite');
    dirs.push(root);
    sim.script({ clearRequests: true, latencyMs: 1000 });
    const server = await startServer([binOf('vite', 'bin/vite.js'), '--strictPort'], { cwd: root, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
    try {
      const app = await browser.newPage();
      await app.goto(`${server.url}/`);
      const { page, failures } = await openPage(browser, `${server.url}/__imageprompt`);
      expect(page.url()).toBe(`${server.url}/__imageprompt/`);
      // four cards at once (missing while generating), then the page follows the images landing
      expect(await page.locator('.sheet .card').count()).toBe(4);
      await page.waitForFunction(() => /cached\s*4/.test(document.querySelector('.summary')?.textContent ?? ''), undefined, { timeout: 20_000 });
      await loadAll(page);
      expect(await page.evaluate(() => Array.from(document.images).filter((img) => img.naturalWidth > 0).length)).toBe(4);
      await screenshot(page, 'review-dev-server');
      // an edit shows up without touching the review page
      await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'A windmill in the rain', width: 640, height: 400 }));
      await page.waitForFunction(() => document.body.textContent?.includes('A windmill in the rain'), undefined, { timeout: 20_000 });
      expect(failures.filter((f) => !/ERR_ABORTED/.test(f))).toEqual([]);
      await app.close();
      await page.close();
    } finally {
      await server.stop();
    }
  }, 90_000);
});

