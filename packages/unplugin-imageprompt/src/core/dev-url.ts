/** Requests to the dev server, as the plugin's middlewares read them. */
import type { IncomingMessage, ServerResponse } from 'node:http';

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

/**
 * A 404 the plugin answers: plain text, which the browser is told not to take for anything else, so
 * that a path echoed in it can never become a page.
 */
export function notFound(res: ServerResponse, text: string): void {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(text);
}
