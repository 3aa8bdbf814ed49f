/**
 * Everything the routes share: the catalog, the accepted keys, the scripted behaviour, rate limits
 * and the error budget, the request log, and the headers every answer carries.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MESSAGES, standardError, type ApiError } from './api-errors.js';
import { applyControl, type Behaviour, type ControlRequest } from './behaviour.js';
import { loadCatalog, type CatalogModel } from './catalog.js';
import { ErrorBudget, RateLimiter, type RateWindow } from './limits.js';
import { WalletBook, type SignIn } from './wallets.js';

export const VENICE_VERSION = '20260821.193530';

export interface VeniceSimOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** API keys the server accepts. @default ['sim-key'] */
  keys?: string[];
  /** Keys set to model privacy "PRIVATE_ONLY": anonymized models answer them 403. @default [] */
  privateOnlyKeys?: string[];
  /** Added to every image request before it is answered. @default 0 */
  latencyMs?: number;
  /** Image requests per minute per key and model (each variant counts); 0 = no limit. @default 20 */
  rpm?: number;
  /** Account balance in USD behind the keys; each image is charged at the catalog price. @default 1000 */
  balanceUsd?: number;
  /** What an x402 wallet holds before `/__sim/control` sets its balance (`walletBalances`). @default 0 */
  walletBalanceUsd?: number;
  /** Non-429 4xx answers per 30 s that trigger the 30-s lockout. @default 50 */
  errorBudget?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case header names; the Authorization and SIGN-IN-WITH-X values are redacted. */
  headers: Record<string, string>;
  body: unknown;
  status: number;
  receivedAt: number;
  /** sha256 (hex) of each image in the answer, as served: the raw body or each decoded base64 image. */
  servedImages: string[];
  /** A verified wallet sign-in: its address (lower case), nonce and issue time. */
  signIn?: SignIn;
}

export interface SimState {
  catalog: CatalogModel[];
  models: Map<string, CatalogModel>;
  keys: Set<string>;
  privateOnly: Set<string>;
  behaviour: Behaviour;
  limiter: RateLimiter;
  budget: ErrorBudget;
  requests: RecordedRequest[];
  generationCounter: number;
  wallets: WalletBook;
}

export function createState(options: VeniceSimOptions): SimState {
  const catalog = loadCatalog();
  const privateOnly = new Set(options.privateOnlyKeys ?? []);
  const now = () => Date.now();
  return {
    catalog,
    models: new Map(catalog.map((m) => [m.id, m])),
    keys: new Set([...(options.keys ?? ['sim-key']), ...privateOnly]),
    privateOnly,
    behaviour: { latencyMs: options.latencyMs ?? 0, rpm: options.rpm ?? 20, balanceUsd: options.balanceUsd ?? 1000, faults: [] },
    limiter: new RateLimiter(now),
    budget: new ErrorBudget(now, options.errorBudget ?? 50),
    requests: [],
    generationCounter: 0,
    wallets: new WalletBook(now, options.walletBalanceUsd ?? 0),
  };
}

export function control(state: SimState, request: ControlRequest): void {
  applyControl(state.behaviour, request);
  if (request.clearRequests) state.requests.length = 0;
  for (const [address, usd] of Object.entries(request.walletBalances ?? {})) state.wallets.setBalance(address, usd);
  if (request.resetLimits) {
    state.limiter.reset();
    state.budget.reset();
  }
}

/** Every answer says it comes from the simulator, so that no drawing of it is ever taken for a paid image. */
export const SIMULATOR_HEADER = 'x-venice-simulator';

export function baseHeaders(): Record<string, string> {
  return { 'cf-ray': `${randomBytes(8).toString('hex')}-SIM`, 'x-venice-version': VENICE_VERSION, [SIMULATOR_HEADER]: 'venice-sim' };
}

export function inferenceHeaders(window: RateWindow, balanceBefore: number): Record<string, string> {
  return {
    'x-venice-balance-usd': balanceBefore.toFixed(6),
    'x-venice-balance-diem': '0.000000',
    'x-ratelimit-limit-requests': String(window.limit),
    'x-ratelimit-remaining-requests': String(window.remaining),
    'x-ratelimit-reset-requests': String(window.resetAt),
  };
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; error: ApiError };

export function parseJsonBody(req: IncomingMessage, raw: Buffer): ParsedBody {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return { ok: false, error: standardError(400, MESSAGES.badContentType, false) };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false, error: standardError(400, MESSAGES.invalidJson, false) };
  }
}
