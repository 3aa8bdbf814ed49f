/**
 * Venice's answer when a wallet has too little credit: 402 with `reason: "insufficient_balance"`, the
 * balance, the minimum each request needs, the smallest top-up and where to make it. It stops the
 * run (nothing more is sent with that wallet) with those figures in the message. Every value is the
 * server's: numbers are shown only when they are numbers, names only when they are short words.
 */
import { ImagePromptError } from '../errors/errors.js';
import { safeServerText } from '../http/bounded-body.js';

interface InsufficientBalance {
  code?: unknown;
  reason?: unknown;
  currentBalanceUsd?: unknown;
  minimumBalanceUsd?: unknown;
  suggestedTopUpUsd?: unknown;
  minimumTopUpUsd?: unknown;
  supportedTokens?: unknown;
  supportedChains?: unknown;
}

/** Venice's guide to wallet payments, and the route a top-up settles on (its answer gives them only as prose). */
const WALLET_DOCS = 'https://docs.venice.ai/overview/guides/x402-venice-api';
const TOP_UP_ROUTE = 'POST https://api.venice.ai/api/v1/x402/top-up';

/** The error for a wallet's 402 for want of credit, or undefined when the body is not that answer. */
export function walletPaymentError(body: unknown, payer: string, secrets: readonly string[]): ImagePromptError | undefined {
  const answer = body as InsufficientBalance;
  if (typeof answer !== 'object' || answer === null) return undefined;
  // `reason` in Venice's spec; its skills show the same document by `code` and the top-up figures
  const lowBalance = answer.reason === 'insufficient_balance' || (answer.code === 'PAYMENT_REQUIRED' && answer.minimumTopUpUsd !== undefined);
  if (!lowBalance) return undefined;
  const balance = usd(answer.currentBalanceUsd);
  const minimum = usd(answer.minimumBalanceUsd);
  const topUp = usd(answer.minimumTopUpUsd);
  const suggested = usd(answer.suggestedTopUpUsd);
  const tokens = words(answer.supportedTokens, secrets) ?? 'USDC';
  const chains = words(answer.supportedChains, secrets) ?? 'Base or Solana';
  const has = balance ? `has ${balance} of credit on Venice` : 'has too little credit on Venice';
  const needs = minimum ? `, less than the ${minimum} each request needs` : '';
  return new ImagePromptError({
    code: 'WALLET_BALANCE_LOW',
    message: `Venice answered 402: ${payer} ${has}${needs}; this request was not charged, and no more are sent with this wallet`,
    hint:
      `top up the wallet with ${topUp ? `at least ${topUp}` : 'credit'}${suggested && suggested !== topUp ? ` (Venice suggests ${suggested})` : ''} ` +
      `in ${tokens} on ${chains} (${TOP_UP_ROUTE}, which venice-x402-client's topUp() calls; see ${WALLET_DOCS}); then run again (images already made are cached and not paid again)`,
    status: 402,
  });
}

function usd(value: unknown): string | undefined {
  const n = typeof value === 'string' && /^\d{1,9}(\.\d{1,12})?$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n < 1e9 ? `$${n.toFixed(2)}` : undefined;
}

function words(value: unknown, secrets: readonly string[]): string | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = value.filter((v): v is string => typeof v === 'string' && /^[\w .-]{1,20}$/.test(v)).slice(0, 6);
  return list.length ? safeServerText(list.join(' or '), secrets, 80) : undefined;
}
