/**
 * The review page, live in the Vite and Astro dev servers at `<base>__imageprompt/`: the page
 * `imageprompt review` writes, for the prompt files this dev server has loaded, with their current
 * status and images; it reloads itself when a prompt file is loaded again or an image lands.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { notFound, pathBelowBase } from './dev-url.js';
import type { ImagePromptEngine, ReviewImage } from 'imageprompt';

export const DEV_REVIEW_PATH = '__imageprompt/';

const CONTENT_TYPES: Record<string, string> = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg' };

/** Asks the server for its version every second and reloads when it is not the one the page shows. */
const liveScript = (version: number) => `<script>
setInterval(async () => {
  try {
    const version = await (await fetch('version', { cache: 'no-store' })).text();
    if (version !== '${version}') location.reload();
  } catch {}
}, 1000);
</script>`;

export class DevReview {
  private version = 0;
  private files = new Set<string>();
  /** The images the last page named, by digest. */
  private images = new Map<string, ReviewImage>();

  constructor(
    private readonly engine: () => Promise<ImagePromptEngine>,
    private readonly base: () => string,
  ) {}

  /** A prompt file was loaded (again), or its image landed or failed: open pages show it anew. */
  changed(file: string): void {
    this.files.add(file);
    this.version += 1;
  }

  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const base = this.base();
    const local = pathBelowBase(req, base);
    if (local === undefined) return next();
    if (local === DEV_REVIEW_PATH.slice(0, -1)) {
      res.statusCode = 302;
      res.setHeader('Location', `${base}${DEV_REVIEW_PATH}`);
      res.end();
      return;
    }
    if (!local.startsWith(DEV_REVIEW_PATH)) return next();
    this.answer(local.slice(DEV_REVIEW_PATH.length), res).catch(next);
  };

  private async answer(rest: string, res: ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (rest === 'version') {
      res.setHeader('Content-Type', 'text/plain');
      res.end(String(this.version));
      return;
    }
    if (rest === '' || rest === 'index.html') {
      const engine = await this.engine();
      const { renderReviewPage, reviewModel } = await import('imageprompt');
      // the version before the model is gathered: a change while it is, shows on the next reload
      const version = this.version;
      const model = await reviewModel(engine, [...this.files]);
      for (const item of model.items) for (const image of item.images) this.images.set(image.digest, image);
      const html = renderReviewPage(model, {
        full: (image) => `images/${image.digest}.${image.format === 'jpeg' ? 'jpg' : image.format}`,
        thumb: (image) => `images/${image.digest}-thumb.webp`,
      });
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.end(html.replace('</body>', `${liveScript(version)}\n</body>`));
      return;
    }
    const match = /^images\/([0-9a-f]{64})(-thumb)?\.(webp|png|jpg)$/.exec(rest);
    const image = match ? this.images.get(match[1]!) : undefined;
    if (!match || !image) {
      notFound(res, 'imageprompt: no such image on the review page');
      return;
    }
    const { thumbnail } = await import('imageprompt');
    const file = match[2] ? await thumbnail(join(dirname((await this.engine()).options.placeholderDir), 'thumbnails'), image.source, image.digest) : image.source;
    res.setHeader('Content-Type', CONTENT_TYPES[match[2] ? 'webp' : match[3]!]!);
    createReadStream(file).pipe(res);
  }
}
