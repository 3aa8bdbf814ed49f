/**
 * Writes the review site: `index.html`, and under `images/` each image in full and as a thumbnail
 * (named by digest, so an image shown twice is stored once), plus `summary.md` when asked. Nothing
 * outside `outDir` changes except the thumbnail cache beside the placeholders.
 */
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extensionOf } from '../images/image-formats.js';
import { renderReviewMarkdown, type SiteLocation } from './review-markdown.js';
import type { ReviewImage, ReviewModel, ReviewRequest } from './review-model.js';
import { clearOutput, MARKER_TEXT, REVIEW_MARKER } from './review-output.js';
import { renderReviewPage, type SiteImages } from './review-page.js';
import { thumbnail } from './thumbnails.js';

export interface ReviewSiteResult {
  /** Bytes a browser loads to show the page: the HTML and every thumbnail. */
  pageBytes: number;
  /** Bytes of the full-size images, loaded only when one is opened. */
  fullBytes: number;
  images: number;
}


export async function writeReviewSite(model: ReviewModel, options: { outDir: string; thumbnailDir: string; markdown: boolean; site: SiteLocation }): Promise<ReviewSiteResult> {
  const imagesDir = join(options.outDir, 'images');
  // a review is written whole: images of an earlier review that no longer apply are not left behind;
  // only a directory this command made (its marker inside) is ever emptied (see review-output.ts)
  await clearOutput(options.outDir);
  await mkdir(imagesDir, { recursive: true });
  await writeFile(join(options.outDir, REVIEW_MARKER), MARKER_TEXT);
  const names: SiteImages = {
    full: (image) => `images/${image.digest}.${extensionOf(image.format)}`,
    thumb: (image) => `images/${image.digest}-thumb.webp`,
  };
  const all = new Map<string, ReviewImage>();
  for (const item of model.items) {
    for (const request of [item, item.change?.before]) {
      for (const image of [...(request?.images ?? []), ...(request?.steps ?? []).flatMap((step) => (step.image ? [step.image] : []))]) all.set(image.digest, image);
    }
  }
  let thumbBytes = 0;
  let fullBytes = 0;
  const unreadable = new Map<string, string>();
  const queue = [...all.values()];
  // thumbnails are made a few at a time: sharp uses every core for each
  const workers = Array.from({ length: 4 }, async () => {
    for (let image = queue.shift(); image; image = queue.shift()) {
      let thumb: string;
      try {
        thumb = await thumbnail(options.thumbnailDir, image.source, image.digest);
      } catch (error) {
        // an image whose bytes cannot be decoded is shown as damaged, not a reason to fail the review
        unreadable.set(image.digest, (error as Error).message);
        continue;
      }
      await copyFile(thumb, join(options.outDir, names.thumb(image)));
      await copyFile(image.source, join(options.outDir, names.full(image)));
      thumbBytes += (await stat(thumb)).size;
      fullBytes += (await stat(image.source)).size;
    }
  });
  await Promise.all(workers);
  if (unreadable.size > 0) for (const item of model.items) for (const request of [item, item.change?.before]) if (request) markUnreadable(request, unreadable);
  const html = renderReviewPage(model, names);
  await writeFile(join(options.outDir, 'index.html'), html);
  if (options.markdown) await writeFile(join(options.outDir, 'summary.md'), renderReviewMarkdown(model, options.site));
  return { pageBytes: Buffer.byteLength(html) + thumbBytes, fullBytes, images: all.size - unreadable.size };
}

function markUnreadable(request: ReviewRequest, unreadable: Map<string, string>): void {
  const bad = request.images.filter((image) => unreadable.has(image.digest));
  if (bad.length === 0) return;
  request.images = request.images.filter((image) => !unreadable.has(image.digest));
  request.damaged = true;
  request.error = `its cached image cannot be decoded (${unreadable.get(bad[0]!.digest)}); delete the entry to generate it again`;
}
