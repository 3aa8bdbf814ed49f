/**
 * Who is asking: `Authorization: Bearer <key>` or an x402 wallet's `SIGN-IN-WITH-X` header (legacy
 * `X-Sign-In-With-X`), verified by `wallets.ts`. No credentials on a credentialed route is 402 with
 * the x402 discovery body; a wrong key 401; if both are sent, the wallet wins.
 */
import type { IncomingMessage } from 'node:http';
import { MESSAGES, paymentRequired, standardError, type ApiError } from './api-errors.js';
import type { SimState } from './sim-state.js';
import type { SignIn } from './wallets.js';

/** The caller: a key, or `wallet:<address>`; undefined on a public route without credentials. */
export type AuthResult = { ok: true; caller: string | undefined; signIn?: SignIn } | { ok: false; error: ApiError };

export async function authenticate(state: SimState, req: IncomingMessage, required: boolean, url: string): Promise<AuthResult> {
  const header = req.headers.authorization;
  const siwx = req.headers['sign-in-with-x'] ?? req.headers['x-sign-in-with-x'];
  if (!header && !siwx) return required ? { ok: false, error: paymentRequired(url) } : { ok: true, caller: undefined };
  if (siwx) {
    const signIn = await state.wallets.verify(String(siwx));
    return 'address' in signIn ? { ok: true, caller: `wallet:${signIn.address}`, signIn } : { ok: false, error: signIn };
  }
  const match = /^Bearer\s+(.+)$/i.exec(String(header));
  if (!match || !state.keys.has(match[1]!.trim())) return { ok: false, error: standardError(401, MESSAGES.authFailed) };
  return { ok: true, caller: match[1]!.trim() };
}
