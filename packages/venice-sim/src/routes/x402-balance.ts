/**
 * `GET /x402/balance/{walletAddress}`: a wallet's credit, to that wallet only (signed in with
 * SIGN-IN-WITH-X for the same address; a key, or another wallet, is refused), in the shape of
 * Venice's docs: `{ success, data: { walletAddress, balanceUsd, canConsume, minimumTopUpUsd,
 * suggestedTopUpUsd, diemBalanceUsd } }`.
 */
import type { IncomingMessage } from 'node:http';
import { standardError } from '../api-errors.js';
import { errorReply, json, type Reply } from '../replies.js';
import { baseHeaders, type SimState } from '../sim-state.js';
import { MINIMUM_BALANCE_USD } from '../wallets.js';

export const BALANCE_PREFIX = '/x402/balance/';

export function handleWalletBalance(state: SimState, req: IncomingMessage, _raw: Buffer, caller: string): Reply {
  const address = decodeURIComponent(new URL(req.url ?? '/', 'http://sim.invalid').pathname.split(BALANCE_PREFIX)[1] ?? '');
  if (!caller.startsWith('wallet:')) return errorReply(standardError(401, 'Sign in with the wallet (SIGN-IN-WITH-X) to read its balance', false), baseHeaders());
  if (caller.slice('wallet:'.length) !== address.toLowerCase()) return errorReply(standardError(403, 'The signed-in wallet is not the wallet asked about', false), baseHeaders());
  const balanceUsd = Number(state.wallets.balance(address).toFixed(6));
  return json(200, { success: true, data: { walletAddress: address, balanceUsd, canConsume: balanceUsd >= MINIMUM_BALANCE_USD, minimumTopUpUsd: 5, suggestedTopUpUsd: 10, diemBalanceUsd: 0 } }, baseHeaders());
}
