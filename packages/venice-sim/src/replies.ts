/** What a route answers, and how it goes on the wire: JSON bodies, compression, dropped connections. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { ApiError } from './api-errors.js';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Whether Accept-Encoding may compress it (JSON only). */
  compressible: boolean;
  drop?: boolean;
  servedImages?: string[];
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(body)),
    compressible: true,
  };
}

export function errorReply(error: ApiError, headers: Record<string, string> = {}): Reply {
  return json(error.status, error.body, { ...headers, ...error.headers });
}

/** Writes the reply, compressed as the client accepts; a `drop` reply sends half and cuts the connection. */
export async function send(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
  let body = reply.body;
  const headers = { ...reply.headers };
  const accepted = String(req.headers['accept-encoding'] ?? '');
  if (reply.compressible && body.length > 0) {
    // off the event loop, and brotli at a middling quality: answers can be hundreds of megabytes
    if (/\bbr\b/.test(accepted)) {
      body = await brotli(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } });
      headers['content-encoding'] = 'br';
    } else if (/\bgzip\b/.test(accepted)) {
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
  }
  headers['content-length'] = String(body.length);
  headers.date = new Date().toUTCString();
  res.writeHead(reply.status, headers);
  if (reply.drop) {
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}
