/**
 * Vite's and Astro's dev servers: images are served by the plugin at `<base>@imageprompt/<name>`,
 * from the cache or placeholder file the engine returned, so they load wherever the cache directory
 * lies (outside the project root or Vite's `server.fs.allow`) and no absolute path of the machine
 * reaches the page. Only files a prompt module handed out are served; names carry the content hash
 * (a responsive derivative's: the hash of what makes it), so they are cached by the browser for good.
 * A derivative still being encoded is served once it is made.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFound, pathBelowBase } from '../dev-url.js';
import { assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

export const DEV_ASSET_PREFIX = '@imageprompt/';

const CONTENT_TYPES: Record<string, string> = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', avif: 'image/avif' };

export class DevServerAssets implements AssetEmitter {
  /**
   * Absolute file by served name, for every image a module was given during this server's life
   * (earlier names stay served: an open page may still show them).
   */
  private files = new Map<string, { path: string; ready?: Promise<void> }>();

  constructor(private readonly base: () => string) {}

  async emit(_context: HookContext, asset: ImageAsset): Promise<string> {
    const digest = asset.digest ?? (await assetBytes(asset)).digest;
    const name = `${asset.name}-${digest.slice(0, 16)}.${asset.extension}`;
    this.files.set(name, { path: asset.path, ...(asset.ready ? { ready: asset.ready } : {}) });
    return JSON.stringify(`${this.base()}${DEV_ASSET_PREFIX}${name}`);
  }

  /** Connect middleware serving the images; anything else passes on. */
  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const local = pathBelowBase(req, this.base());
    if (local === undefined || !local.startsWith(DEV_ASSET_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const name = local.slice(DEV_ASSET_PREFIX.length);
    const file = this.files.get(name);
    if (!file) {
      notFound(res, `imageprompt: no image named ${JSON.stringify(name)} was handed out by this dev server`);
      return;
    }
    const serve = () => {
      res.setHeader('Content-Type', CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file.path)
        .on('error', () => {
          notFound(res, `imageprompt: ${name} is no longer in the cache; edit or reload to have it again`);
        })
        .pipe(res);
    };
    if (!file.ready) return serve();
    file.ready.then(serve, () => notFound(res, `imageprompt: ${name} could not be made (see the dev server's output)`));
  };
}
