/**
 * x402 wallets as Venice treats them (reference §7): a `SIGN-IN-WITH-X` header is base64 JSON of an
 * EIP-4361 message, its signature and the address. The signature is verified for real (the address
 * is recovered from it with viem), and the message must be for domain `api.venice.ai`, version 1,
 * chain 8453 (Base), issued at most five minutes ago and at most 30 s ahead, with a nonce not seen in
 * the last 5.5 minutes. Each wallet has a balance (`/__sim/control` sets it; a wallet never topped up
 * has none), needs at least $0.10 for a request, is charged per image, and may have five requests in
 * flight. Refusals carry Venice's codes: `X402_SIGN_IN_EXPIRED`, `_NONCE_REUSED` and
 * `_INVALID_SIGNATURE` are Venice's documented names; `_MALFORMED`, `_INVALID_DOMAIN`,
 * `_UNSUPPORTED_CHAIN` and `_NOT_YET_VALID` are this simulator's names in the same family.
 */
import { recoverMessageAddress } from 'viem';
import { parseSiweMessage } from 'viem/siwe';
import type { ApiError } from './api-errors.js';

export const SIGN_IN_DOMAIN = 'api.venice.ai';
export const BASE_CHAIN_ID = 8453;
const MAX_AGE_MS = 5 * 60_000;
const MAX_AHEAD_MS = 30_000;
const NONCE_MEMORY_MS = 5.5 * 60_000;
/** The least a wallet must hold for any request. */
export const MINIMUM_BALANCE_USD = 0.1;
export const MAX_IN_FLIGHT = 5;
const MAX_HEADER_CHARS = 8 * 1024;

/** A verified sign-in, as the request log keeps it. */
export interface SignIn {
  address: string;
  nonce: string;
  issuedAt: string;
}

function refusal(code: string, message: string): ApiError {
  return { status: 401, body: { error: message, code }, countsTowardBudget: true };
}

export class WalletBook {
  private balances = new Map<string, number>();
  /** Nonces seen, with when they may be forgotten. */
  private nonces = new Map<string, number>();
  private inFlight = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly startingBalanceUsd: number,
  ) {}

  /** Checks a SIGN-IN-WITH-X value as Venice does; a valid one uses up its nonce. */
  async verify(value: string): Promise<SignIn | ApiError> {
    if (value.length > MAX_HEADER_CHARS) return refusal('X402_SIGN_IN_MALFORMED', 'Invalid SIWX header: too large');
    let fields: { address?: unknown; message?: unknown; signature?: unknown };
    try {
      fields = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as typeof fields;
    } catch {
      return refusal('X402_SIGN_IN_MALFORMED', 'Invalid SIWX header: not base64-encoded JSON');
    }
    const { address, message, signature } = fields ?? {};
    if (typeof address !== 'string' || typeof message !== 'string' || typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      return refusal('X402_SIGN_IN_INVALID_SIGNATURE', 'Invalid SIWX header: address, message and a 65-byte signature are required');
    }
    const siwe = parseSiweMessage(message);
    if (!siwe.address || !siwe.nonce || !siwe.issuedAt || !siwe.uri || siwe.version !== '1') {
      return refusal('X402_SIGN_IN_MALFORMED', 'Invalid SIWX message: not an EIP-4361 message with address, URI, version 1, nonce and issued-at');
    }
    if (siwe.domain !== SIGN_IN_DOMAIN) return refusal('X402_SIGN_IN_INVALID_DOMAIN', `SIWX message is for domain "${siwe.domain ?? ''}", not ${SIGN_IN_DOMAIN}`);
    if (siwe.chainId !== BASE_CHAIN_ID) return refusal('X402_SIGN_IN_UNSUPPORTED_CHAIN', `SIWX chain ${siwe.chainId ?? 'missing'} is not supported; sign for Base (${BASE_CHAIN_ID})`);
    const now = this.now();
    const issued = siwe.issuedAt.getTime();
    if (Number.isNaN(issued) || now - issued > MAX_AGE_MS || (siwe.expirationTime && siwe.expirationTime.getTime() <= now)) {
      return refusal('X402_SIGN_IN_EXPIRED', 'SIWX message has expired: sign a new one (valid for 5 minutes)');
    }
    if (issued - now > MAX_AHEAD_MS) return refusal('X402_SIGN_IN_NOT_YET_VALID', 'SIWX message is issued in the future: check the clock');
    let signer: string;
    try {
      signer = await recoverMessageAddress({ message, signature: signature as `0x${string}` });
    } catch {
      return refusal('X402_SIGN_IN_INVALID_SIGNATURE', 'SIWX signature could not be verified');
    }
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (!same(signer, siwe.address) || !same(signer, address)) return refusal('X402_SIGN_IN_INVALID_SIGNATURE', 'SIWX signature does not match the address');
    this.forgetOldNonces(now);
    if (this.nonces.has(siwe.nonce)) return refusal('X402_SIGN_IN_NONCE_REUSED', 'SIWX nonce has already been used: sign a new message for every request');
    this.nonces.set(siwe.nonce, now + NONCE_MEMORY_MS);
    return { address: signer.toLowerCase(), nonce: siwe.nonce, issuedAt: siwe.issuedAt.toISOString() };
  }

  balance(address: string): number {
    return this.balances.get(address.toLowerCase()) ?? this.startingBalanceUsd;
  }

  setBalance(address: string, usd: number): void {
    this.balances.set(address.toLowerCase(), usd);
  }

  charge(address: string, usd: number): void {
    this.setBalance(address, Math.max(0, this.balance(address) - usd));
  }

  /** Venice's 402 for a wallet that cannot pay for a request of `priceUsd`, or undefined when it can. */
  refuse(address: string, priceUsd: number): ApiError | undefined {
    const balance = this.balance(address);
    const needed = Math.max(MINIMUM_BALANCE_USD, priceUsd);
    if (balance >= needed) return undefined;
    const body = {
      error: 'Payment required',
      code: 'PAYMENT_REQUIRED',
      reason: 'insufficient_balance',
      message: 'Insufficient x402 balance',
      currentBalanceUsd: Number(balance.toFixed(6)),
      minimumBalanceUsd: MINIMUM_BALANCE_USD,
      suggestedTopUpUsd: 10,
      minimumTopUpUsd: 5,
      supportedTokens: ['USDC'],
      supportedChains: ['base', 'solana'],
      topUpInstructions: {
        step1: 'POST /api/v1/x402/top-up with no payment header to get payment requirements',
        step2: 'Sign a USDC transfer for the amount and send it in the X-402-Payment header to the same route',
      },
      siwxChallenge: { info: { domain: SIGN_IN_DOMAIN, uri: `https://${SIGN_IN_DOMAIN}`, version: '1', chainId: BASE_CHAIN_ID }, supportedChains: ['eip155:8453'] },
    };
    return { status: 402, body, countsTowardBudget: false, headers: { 'payment-required': Buffer.from(JSON.stringify({ x402Version: 2, error: 'insufficient_balance' })).toString('base64') } };
  }

  /** Takes one of the wallet's five slots for a request in flight; false when all are taken. */
  enter(address: string): boolean {
    const n = this.inFlight.get(address) ?? 0;
    if (n >= MAX_IN_FLIGHT) return false;
    this.inFlight.set(address, n + 1);
    return true;
  }

  leave(address: string): void {
    const n = (this.inFlight.get(address) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(address);
    else this.inFlight.set(address, n);
  }

  private forgetOldNonces(now: number): void {
    for (const [nonce, until] of this.nonces) if (until <= now) this.nonces.delete(nonce);
  }
}

/** Venice's answer to a sixth request in flight for one wallet. */
export function concurrencyLimited(): ApiError {
  return {
    status: 429,
    body: { error: `Too many concurrent requests for this wallet (at most ${MAX_IN_FLIGHT})`, code: 'X402_CONCURRENCY_LIMIT' },
    countsTowardBudget: false,
    headers: { 'retry-after': '1' },
  };
}
