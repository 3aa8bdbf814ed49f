/**
 * Paying with an x402 wallet: from the private key in `VENICE_WALLET_PRIVATE_KEY`, a fresh EIP-4361
 * (Sign-In with Ethereum) message for every attempt, retries included, as Venice requires: domain
 * `api.venice.ai`, URI `https://api.venice.ai`, version 1, chain 8453 (Base), a random single-use
 * nonce (16 hex digits, as Venice's docs and client make it), issued now and expiring in five minutes. The header is base64 JSON of the address, the
 * message, its signature, the time and the chain, the shape Venice's own x402 client sends.
 *
 * Keys and signatures are viem's (`privateKeyToAccount`, `createSiweMessage`), loaded with the first
 * request, so a build that pays nothing never loads them. Only EVM wallets: Venice also takes Solana's
 * ed25519 sign-ins, but a Base wallet covers every Venice route and a second signing scheme is a
 * second secret format to guard; a Solana key is refused with a message that says so.
 */
import { randomBytes } from 'node:crypto';
import { configError } from '../config/connection-checks.js';
import type { Credential } from './credentials.js';

export const SIGN_IN_DOMAIN = 'api.venice.ai';
export const SIGN_IN_URI = 'https://api.venice.ai';
export const BASE_CHAIN_ID = 8453;
const STATEMENT = 'Sign in to Venice AI';
/** Venice accepts a sign-in issued at most five minutes ago. */
const VALID_FOR_MS = 5 * 60_000;

interface Signer {
  address: `0x${string}`;
  sign(message: string): Promise<string>;
  message(address: `0x${string}`, issuedAt: Date): string;
}

export class WalletSignIn implements Credential {
  readonly kind = 'wallet';
  /** Venice answers a sixth request in flight for one wallet with 429 `X402_CONCURRENCY_LIMIT`. */
  readonly maxInFlight = 5;
  readonly refusedHint =
    'check the clock of this machine (a sign-in is valid for five minutes) and VENICE_WALLET_PRIVATE_KEY; or use an API key in VENICE_API_KEY';
  readonly secrets: readonly string[];
  private readonly key: `0x${string}`;
  private signer: Promise<Signer> | undefined;
  private address: string | undefined;

  /** `source` names where the key came from, for errors: `VENICE_WALLET_PRIVATE_KEY` or the option. */
  constructor(
    privateKey: string,
    private readonly source: string,
  ) {
    this.key = parsePrivateKey(privateKey, source);
    this.secrets = [privateKey, this.key, this.key.slice(2)];
  }

  /** Whether any request was signed (and so the address is known). */
  get signedAny(): boolean {
    return this.address !== undefined;
  }

  get label(): string {
    return this.address ? `the wallet ${this.address}` : 'the wallet';
  }

  /** The wallet's address (checksummed), derived from the key. */
  async walletAddress(): Promise<string> {
    return (await this.load()).address;
  }

  async headers(): Promise<Record<string, string>> {
    const signer = await this.load();
    const now = new Date();
    const message = signer.message(signer.address, now);
    const signature = await signer.sign(message);
    const value = { address: signer.address, message, signature, timestamp: now.getTime(), chainId: BASE_CHAIN_ID };
    return { 'SIGN-IN-WITH-X': Buffer.from(JSON.stringify(value)).toString('base64') };
  }

  private load(): Promise<Signer> {
    this.signer ??= (async () => {
      const [{ privateKeyToAccount }, { createSiweMessage }] = await Promise.all([import('viem/accounts'), import('viem/siwe')]);
      let account: ReturnType<typeof privateKeyToAccount>;
      try {
        account = privateKeyToAccount(this.key);
      } catch {
        // 64 hex digits past the curve's order: viem's own message would show the key
        throw configError(this.source, 'is not a valid secp256k1 private key (out of range)', "set it to the wallet's private key (the key is not shown)");
      }
      this.address = account.address;
      return {
        address: account.address,
        sign: (message) => account.signMessage({ message }),
        message: (address, issuedAt) =>
          createSiweMessage({
            domain: SIGN_IN_DOMAIN,
            address,
            statement: STATEMENT,
            uri: SIGN_IN_URI,
            version: '1',
            chainId: BASE_CHAIN_ID,
            nonce: randomBytes(8).toString('hex'),
            issuedAt,
            expirationTime: new Date(issuedAt.getTime() + VALID_FOR_MS),
          }),
      };
    })();
    return this.signer;
  }
}

/**
 * An EVM private key: 32 bytes as 64 hex digits, with or without `0x`. Anything else is refused
 * without showing it: a Solana key (base58, or a keypair file's JSON array), a recovery phrase, an
 * address, or a key cut short.
 */
function parsePrivateKey(value: string, source: string): `0x${string}` {
  const trimmed = value.trim();
  const hex = trimmed.replace(/^0x/i, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex) && !/^0+$/.test(hex)) return `0x${hex.toLowerCase()}`;
  const hint = 'set it to the wallet\'s private key: 64 hexadecimal digits, with or without "0x" (an EVM wallet on Base; the key is not shown)';
  let what: string;
  if (/^[1-9A-HJ-NP-Za-km-z]{80,90}$/.test(trimmed) || /^\[\s*\d+(\s*,\s*\d+){63}\s*\]$/.test(trimmed)) {
    what = 'looks like a Solana key; imageprompt signs in with EVM wallets (Base) only';
  } else if (trimmed.split(/\s+/).length >= 12) what = 'looks like a recovery phrase, not a private key';
  else if (/^[0-9a-fA-F]{40}$/.test(hex)) what = 'looks like a wallet address, not its private key';
  else if (/^0+$/.test(hex) && hex.length === 64) what = 'is zero, which is no private key';
  else what = `is not an EVM private key (${trimmed.length} characters, where 64 hexadecimal digits are expected)`;
  throw configError(source, what, hint);
}
