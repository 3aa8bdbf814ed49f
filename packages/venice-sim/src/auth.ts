/**
 * Who is asking: `Authorization: Bearer <key>` or an x402 wallet's `SIGN-IN-WITH-X` header (legacy
 * `X-Sign-In-With-X`). No credentials on a credentialed route is 402 with the x402 discovery body;
 * a wrong key 401. A wallet header must be base64 JSON with `address`, `message` and `signature`
 * (the simulator checks the shape, not the signature); if both are sent, the wallet wins.
 */
import type { IncomingMessage } from 'node:http';
import { MESSAGES, paymentRequired, standardError, type ApiError } from './api-errors.js';
import type { SimState } from './sim-state.js';

/** The caller: a key, or `wallet:<address>`; undefined on a public route without credentials. */
export type AuthResult = { ok: true; caller: string | undefined } | { ok: false; error: ApiError };

function siwxError(code: string, message: string): ApiError {
  return { ...standardError(401, message), body: { error: message, code } };
}

/** The wallet address a well-formed SIGN-IN-WITH-X value names, or an error as Venice gives it. */
export function readSiwx(value: string): { address: string } | ApiError {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return siwxError('X402_SIGN_IN_MALFORMED', 'Invalid SIWX header: not base64-encoded JSON');
  }
  const fields = decoded as { address?: unknown; message?: unknown; signature?: unknown };
  if (typeof fields?.address !== 'string' || typeof fields.message !== 'string' || typeof fields.signature !== 'string' || !fields.signature) {
    return siwxError('X402_SIGN_IN_INVALID_SIGNATURE', 'Invalid SIWX header: address, message and signature are required');
  }
  return { address: fields.address };
}

export function authenticate(state: SimState, req: IncomingMessage, required: boolean, url: string): AuthResult {
  const header = req.headers.authorization;
  const siwx = req.headers['sign-in-with-x'] ?? req.headers['x-sign-in-with-x'];
  if (!header && !siwx) return required ? { ok: false, error: paymentRequired(url) } : { ok: true, caller: undefined };
  if (siwx) {
    const wallet = readSiwx(String(siwx));
    return 'address' in wallet ? { ok: true, caller: `wallet:${wallet.address}` } : { ok: false, error: wallet };
  }
  const match = /^Bearer\s+(.+)$/i.exec(String(header));
  if (!match || !state.keys.has(match[1]!.trim())) return { ok: false, error: standardError(401, MESSAGES.authFailed) };
  return { ok: true, caller: match[1]!.trim() };
}
