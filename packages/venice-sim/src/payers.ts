/**
 * Who pays for an image request: the account behind an API key (one balance, `balanceUsd`, a plain
 * 402 when it runs out) or an x402 wallet (its own balance in `wallets.ts`, Venice's structured 402,
 * and `X-Balance-Remaining` on every paid answer).
 */
import { MESSAGES, standardError, type ApiError } from './api-errors.js';
import type { SimState } from './sim-state.js';

export interface Payer {
  balance(): number;
  charge(usd: number): void;
  /** The 402 for a request of `priceUsd` this payer cannot pay for, or undefined. */
  refuse(priceUsd: number): ApiError | undefined;
  /** Headers a paid answer carries for this payer. */
  paidHeaders(): Record<string, string>;
}

/** The payer behind an authenticated caller: a key, or `wallet:<address>`. */
export function payerOf(state: SimState, caller: string): Payer {
  const { behaviour, wallets } = state;
  if (caller.startsWith('wallet:')) {
    const address = caller.slice('wallet:'.length);
    return {
      balance: () => wallets.balance(address),
      charge: (usd) => wallets.charge(address, usd),
      refuse: (priceUsd) => wallets.refuse(address, priceUsd),
      paidHeaders: () => ({ 'x-balance-remaining': wallets.balance(address).toFixed(6) }),
    };
  }
  return {
    balance: () => behaviour.balanceUsd,
    charge: (usd) => {
      behaviour.balanceUsd = Math.max(0, behaviour.balanceUsd - usd);
    },
    refuse: (priceUsd) => (behaviour.balanceUsd < priceUsd ? standardError(402, MESSAGES.insufficientBalance) : undefined),
    paidHeaders: () => ({}),
  };
}
