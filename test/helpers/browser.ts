/** Debian's Chromium driven by playwright-core; no browser is ever downloaded. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_DIR } from './fixtures.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTEFACTS = join(REPO_DIR, 'test-results');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Requests that failed, and answers of 400 or more, as "STATUS URL". */
  failures: string[];
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const failures: string[] = [];
  page.on('requestfailed', (request) => failures.push(`failed ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, failures };
}

export interface ShownImage {
  src: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
  width: number;
}

/** Waits until every <img> has finished loading, then reports each one. */
export async function shownImages(page: Page): Promise<ShownImage[]> {
  await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete), undefined, { timeout: 30_000 });
  return page.evaluate(() =>
    Array.from(document.images).map((img) => ({
      src: img.currentSrc,
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      width: Number(img.getAttribute('width')),
    })),
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTEFACTS, { recursive: true });
  const path = join(ARTEFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
