/**
 * One request and its answer over Node's own HTTP client, for the shared cache's stores. A restore
 * sends two requests per entry, and `fetch` (undici with web streams) costs about 0.6 ms of CPU per
 * request on top of the transfer: a plain download of 400 small objects took 0.52 s of user CPU
 * with `fetch` against 0.28 s with `node:http` (bench section 5, docs/performance.md).
 *
 * What the shared cache relied on in `fetch` holds here too:
 * - a redirect is never followed (credentials go to the address configured, nowhere else);
 * - the signal is the deadline for the whole exchange: headers, and the body while it is read (a
 *   body cut by it throws an `AbortError`);
 * - connections are kept alive and reused, and an idle one is closed after a few seconds, before a
 *   server's usual keep-alive time runs out, so that a request is not sent on a connection the
 *   server is closing;
 * - no content coding is asked for or undone: the bytes read are the bytes stored;
 * - Node's own proxy settings apply as they did to `fetch`: with `NODE_USE_ENV_PROXY=1`, requests go
 *   through `HTTP_PROXY` or `HTTPS_PROXY` except to hosts in `NO_PROXY` (Node 22.21 and later).
 */
import type http from 'node:http';
import type https from 'node:https';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface HttpRequest {
  method: string;
  headers?: Record<string, string>;
  /** Bytes, or a function that makes the body's stream (called once per request). */
  body?: Uint8Array | (() => AsyncIterable<Uint8Array>);
  signal: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  /** A header's value, or undefined when the answer has none. */
  header(name: string): string | undefined;
  /** The body's chunks; leaving the loop early closes the connection. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Lets the body go: read to its end when it is small (the connection is then reused), else cut off. */
  discard(): Promise<void>;
  /** The first `limit` bytes of the body as text (an error's words); the body is spent after it. */
  prefix(limit: number): Promise<string>;
}

/** A body at most this long is read to its end when let go, so that its connection is reused. */
const DRAIN_BYTES = 64 * 1024;
/** How long an idle connection is kept: less than the 5 s Apache keeps one (nginx keeps 75 s). */
const IDLE_MS = 4000;

interface Client {
  request: typeof http.request;
  agent: http.Agent;
}

const clients = new Map<string, Client>();

/**
 * Node's client for `protocol`, made on the first request. It is taken with getBuiltinModule, not
 * imported: an ES import of `node:http` reads every export, its WebSocket among them, which loads
 * undici (~20 ms of every start, for a command that may never send a request).
 */
function clientFor(protocol: string): Client | undefined {
  if (protocol !== 'http:' && protocol !== 'https:') return undefined;
  let client = clients.get(protocol);
  if (!client) {
    const module = process.getBuiltinModule(protocol === 'https:' ? 'node:https' : 'node:http') as typeof https;
    // an agent of our own takes the proxy settings only when given them (the global agents take
    // them under NODE_USE_ENV_PROXY=1); Node before 22.21 ignores the option
    const proxy = process.env.NODE_USE_ENV_PROXY === '1' ? { proxyEnv: process.env } : {};
    client = { request: module.request, agent: new module.Agent({ keepAlive: true, timeout: IDLE_MS, ...proxy } as https.AgentOptions) };
    clients.set(protocol, client);
  }
  return client;
}

/** Sends the request; resolves when the answer's headers are in, rejects when none came (refused, reset, the deadline). */
export function exchange(url: string, request: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url);
  const client = clientFor(target.protocol);
  if (!client) return Promise.reject(new TypeError(`${target.protocol} is not HTTP`));
  return new Promise((resolve, reject) => {
    const outgoing = client.request(target, { method: request.method, headers: request.headers, agent: client.agent, signal: request.signal });
    outgoing.on('error', reject);
    outgoing.once('response', (incoming) => {
      // errors reach whoever reads the body; one nobody reads must not end the process
      incoming.on('error', () => undefined);
      addAbortSignal(request.signal, incoming);
      resolve(answerOf(incoming));
    });
    const { body } = request;
    if (body === undefined) outgoing.end();
    else if (body instanceof Uint8Array) outgoing.end(body);
    else pipeline(Readable.from(body()), outgoing).catch((error: unknown) => outgoing.destroy(error as Error));
  });
}

function answerOf(incoming: http.IncomingMessage): HttpAnswer {
  const status = incoming.statusCode ?? 0;
  return {
    status,
    statusText: incoming.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    header: (name) => {
      const value = incoming.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: incoming,
    async discard() {
      if (incoming.readableEnded || incoming.destroyed) return;
      // complete: all of it is in (a HEAD's answer, whatever its Content-Length says, has no body)
      const length = Number(incoming.headers['content-length'] ?? Number.NaN);
      if (!incoming.complete && !(length <= DRAIN_BYTES)) {
        incoming.destroy();
        return;
      }
      try {
        for await (const _ of incoming) {
          // read to the end: the connection goes back to the pool
        }
      } catch {
        // a body that breaks off while being let go is no one's concern
      }
    },
    async prefix(limit) {
      const parts: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of incoming as AsyncIterable<Buffer>) {
          parts.push(chunk);
          total += chunk.length;
          if (total >= limit) break;
        }
      } catch {
        // a body that breaks off still says what it said so far
      }
      return Buffer.concat(parts).subarray(0, limit).toString('utf8');
    },
  };
}
