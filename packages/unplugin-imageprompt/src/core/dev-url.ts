/** Requests to the dev server, as the plugin's middlewares read them. */
import type { IncomingMessage } from 'node:http';

/**
 * The request's path below the server's `base` (`/` or `/docs/`), decoded, without the query; a
 * path outside `base` is taken from the root. Undefined for a URL that does not decode (none the
 * plugin gave out).
 */
export function pathBelowBase(req: IncomingMessage, base: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent((req.url ?? '').split('?')[0]!);
  } catch {
    return undefined;
  }
  return path.startsWith(base) ? path.slice(base.length) : path.replace(/^\//, '');
}
