/**
 * Writes the review site: `index.html`, and under `images/` each image in full and as a thumbnail
 * (named by digest, so an image shown twice is stored once), plus `summary.md` when asked. Nothing
 * outside `outDir` changes except the thumbnail cache beside the placeholders.
 */
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReviewMarkdown } from './review-markdown.js';
import type { ReviewImage, ReviewModel } from './review-model.js';
import { renderReviewPage, type SiteImages } from './review-page.js';
import { thumbnail } from './thumbnails.js';

export interface ReviewSiteResult {
  /** Bytes a browser loads to show the page: the HTML and every thumbnail. */
  pageBytes: number;
  /** Bytes of the full-size images, loaded only when one is opened. */
  fullBytes: number;
  images: number;
}

const extensionOf = (format: string) => (format === 'jpeg' ? 'jpg' : format);

export async function writeReviewSite(model: ReviewModel, options: { outDir: string; thumbnailDir: string; markdown: boolean; siteUrl?: string }): Promise<ReviewSiteResult> {
  const imagesDir = join(options.outDir, 'images');
  // a review is written whole: images of an earlier review that no longer apply are not left behind
  await rm(options.outDir, { recursive: true, force: true });
  await mkdir(imagesDir, { recursive: true });
  const names: SiteImages = {
    full: (image) => `images/${image.digest}.${extensionOf(image.format)}`,
    thumb: (image) => `images/${image.digest}-thumb.webp`,
  };
  const all = new Map<string, ReviewImage>();
  for (const item of model.items) for (const image of [...item.images, ...(item.change?.before?.images ?? [])]) all.set(image.digest, image);
  let thumbBytes = 0;
  let fullBytes = 0;
  const queue = [...all.values()];
  // thumbnails are made a few at a time: sharp uses every core for each
  const workers = Array.from({ length: 4 }, async () => {
    for (let image = queue.shift(); image; image = queue.shift()) {
      const thumb = await thumbnail(options.thumbnailDir, image.source, image.digest);
      await copyFile(thumb, join(options.outDir, names.thumb(image)));
      await copyFile(image.source, join(options.outDir, names.full(image)));
      thumbBytes += (await stat(thumb)).size;
      fullBytes += (await stat(image.source)).size;
    }
  });
  await Promise.all(workers);
  const html = renderReviewPage(model, names);
  await writeFile(join(options.outDir, 'index.html'), html);
  if (options.markdown) await writeFile(join(options.outDir, 'summary.md'), renderReviewMarkdown(model, options.siteUrl));
  return { pageBytes: Buffer.byteLength(html) + thumbBytes, fullBytes, images: all.size };
}
