/**
 * The HTTP server: routes under `/api/v1` as Venice answers them (one module per route under
 * `routes/`, sharing `auth.ts`, `gate.ts` and `sim-state.ts`), plus `/__sim/*` control routes that
 * tests and other processes use to script faults and read the request log.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESSAGES } from './api-errors.js';
import { authenticate } from './auth.js';
import type { Behaviour, ControlRequest } from './behaviour.js';
import { errorReply, json, send, type Reply } from './replies.js';
import { handleGenerate } from './routes/image-generate.js';
import { handleEdit, handleMultiEdit } from './routes/image-edit.js';
import { handleBackgroundRemove, handleUpscale } from './routes/image-tools.js';
import { BALANCE_PREFIX, handleWalletBalance } from './routes/x402-balance.js';
import { handleGenerations } from './routes/images-generations.js';
import { handleModels } from './routes/models.js';
import { handleRateLimits } from './routes/rate-limits.js';
import { baseHeaders, control, createState, type RecordedRequest, type SimState, type VeniceSimOptions } from './sim-state.js';
import { concurrencyLimited, type SignIn } from './wallets.js';
import { STYLE_PRESETS } from './styles.js';

export { VENICE_VERSION, type RecordedRequest, type VeniceSimOptions } from './sim-state.js';
export { BLUR_TRIGGER, GRAIN_TRIGGER, VIOLATION_TRIGGER } from './triggers.js';

export interface VeniceSim {
  /** Base URL, e.g. `http://127.0.0.1:41234/api/v1`. */
  url: string;
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Requests to the routes that make images: generate, the OpenAI route, upscale, background removal, edit, multi-edit. */
  imageRequests(): RecordedRequest[];
  /** Image requests held now (see `hold` in the control request), received and not answered. */
  heldRequests(): number;
  script(control: ControlRequest): void;
  readonly behaviour: Behaviour;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 35 * 1024 * 1024;
/** The routes that make (and charge for) images. */
const IMAGE_ROUTE = /\/image\/(generate|upscale|background-remove|edit|multi-edit)$|\/images\/generations$/;

/** Routes anyone may call; credentials, if sent, must still be valid. */
const PUBLIC: Record<string, (state: SimState, url: URL) => Reply> = {
  '/image/styles': () => json(200, { object: 'list', data: STYLE_PRESETS }, baseHeaders()),
  '/models': (state, url) => handleModels(state, url, 'list'),
  '/models/traits': (state, url) => handleModels(state, url, 'traits'),
  '/models/compatibility_mapping': (state, url) => handleModels(state, url, 'compatibility'),
};

/** Routes that need a key or a wallet sign-in, by method and path. */
const CREDENTIALED: Record<string, (state: SimState, req: IncomingMessage, raw: Buffer, caller: string) => Promise<Reply> | Reply> = {
  'POST /image/generate': handleGenerate,
  'POST /images/generations': handleGenerations,
  'POST /image/upscale': handleUpscale,
  'POST /image/background-remove': handleBackgroundRemove,
  'POST /image/edit': handleEdit,
  'POST /image/multi-edit': handleMultiEdit,
  'GET /api_keys/rate_limits': (state) => handleRateLimits(state),
  [`GET ${BALANCE_PREFIX}:address`]: handleWalletBalance,
};

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'authorization') headers[name] = text.replace(/^(\w+)\s+.*$/, '$1 [redacted]');
    else if (name === 'sign-in-with-x' || name === 'x-sign-in-with-x') headers[name] = '[redacted]';
    else headers[name] = text;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The reply, and the wallet sign-in the request was verified with, if any. */
async function route(state: SimState, req: IncomingMessage, url: URL, raw: Buffer): Promise<Reply & { signIn?: SignIn }> {
  const path = url.pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  if (path === '/__sim/control' && method === 'POST') {
    control(state, JSON.parse(raw.toString('utf8') || '{}') as ControlRequest);
    return json(200, { ok: true, behaviour: state.behaviour });
  }
  if (path === '/__sim/requests' && method === 'GET') return json(200, { requests: state.requests });
  if (!path.startsWith('/api/v1/')) return json(404, { error: 'Not found' });
  const apiPath = path.slice('/api/v1'.length);
  const fullUrl = `http://${req.headers.host ?? 'localhost'}${url.pathname}`;
  const open = method === 'GET' ? PUBLIC[apiPath] : undefined;
  // the one route with a parameter: the wallet's address
  const guarded = CREDENTIALED[`${method} ${apiPath.startsWith(BALANCE_PREFIX) ? `${BALANCE_PREFIX}:address` : apiPath}`];
  if (!open && !guarded) return json(404, { error: 'Not found' }, baseHeaders());
  const auth = await authenticate(state, req, Boolean(guarded), fullUrl);
  if (!auth.ok) return errorReply(auth.error, baseHeaders());
  if (open) return open(state, url);
  const signIn = auth.signIn;
  // a wallet may have five requests in flight; the sixth is refused, not queued
  if (signIn && !state.wallets.enter(signIn.address)) return { ...errorReply(concurrencyLimited(), baseHeaders()), signIn };
  try {
    return { ...(await guarded!(state, req, raw, auth.caller!)), signIn };
  } finally {
    if (signIn) state.wallets.leave(signIn.address);
  }
}

export async function startVeniceSim(options: VeniceSimOptions = {}): Promise<VeniceSim> {
  const state = createState(options);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = await readBody(req);
      let reply: Reply & { signIn?: SignIn };
      let bodyForLog: unknown;
      if (raw === 'too-large') {
        reply = json(413, { code: 'PAYLOAD_TOO_LARGE', error: 'Request body exceeds 35 MB' }, baseHeaders());
      } else {
        const text = raw.toString('utf8');
        try {
          bodyForLog = text ? JSON.parse(text) : undefined;
        } catch {
          bodyForLog = text;
        }
        try {
          reply = await route(state, req, url, raw);
        } catch (error) {
          reply = json(500, { error: MESSAGES.inferenceFailed, detail: String(error) }, baseHeaders());
        }
      }
      if (!url.pathname.startsWith('/__sim/')) {
        state.requests.push({
          method: req.method ?? 'GET',
          path: url.pathname + url.search,
          headers: redactHeaders(req),
          body: bodyForLog,
          status: reply.status,
          receivedAt: Date.now(),
          servedImages: reply.servedImages ?? [],
          ...(reply.signIn ? { signIn: reply.signIn } : {}),
        });
      }
      await send(req, res, reply);
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/api/v1`,
    port: address.port,
    requests: state.requests,
    imageRequests: () => state.requests.filter((r) => r.method === 'POST' && IMAGE_ROUTE.test(r.path)),
    heldRequests: () => state.behaviour.hold?.waiting ?? 0,
    script: (request) => control(state, request),
    behaviour: state.behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        // held requests are answered (to connections about to be cut) so that nothing waits on them
        control(state, { release: true });
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
