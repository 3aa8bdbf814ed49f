/**
 * What pays for a request, as the headers of one attempt: an API key (the same header every time),
 * a wallet that signs a fresh SIGN-IN-WITH-X for every attempt (`wallet-sign-in.ts`), or one value a
 * wallet signed beforehand (`VENICE_SIWX`), which Venice accepts once and so pays for one request.
 * Messages name a credential by what it is (the key, the wallet's address), never by its value.
 */
import { checkApiKey } from '../config/connection-checks.js';
import { ImagePromptError } from '../errors/errors.js';

export interface Credential {
  readonly kind: 'key' | 'pre-signed sign-in' | 'wallet';
  /** In messages: `the API key`, `the wallet 0x1234…abcd`. */
  readonly label: string;
  /** The headers of one attempt; a wallet signs afresh each time. */
  headers(): Promise<Record<string, string>>;
  /** Masked in anything a server says, should it echo one back. */
  readonly secrets: readonly string[];
  /** Requests this credential may have in flight at once (Venice allows a wallet five), or undefined for no limit. */
  readonly maxInFlight: number | undefined;
  /** What to do when Venice refuses this credential's sign-in or payment. */
  readonly refusedHint: string;
}

export class ApiKeyCredential implements Credential {
  readonly kind = 'key';
  readonly label = 'the API key';
  readonly maxInFlight = undefined;
  readonly refusedHint = 'check the API key in VENICE_API_KEY or the apiKey option; keys are managed at https://venice.ai/settings/api';
  readonly secrets: readonly string[];

  constructor(private readonly key: string) {
    checkApiKey(key, 'the API key');
    this.secrets = [key];
  }

  headers(): Promise<Record<string, string>> {
    return Promise.resolve({ Authorization: `Bearer ${this.key}` });
  }
}

/** `VENICE_SIWX`: a SIGN-IN-WITH-X value signed elsewhere, sent once; Venice refuses a nonce it has seen. */
export class PreSignedSignIn implements Credential {
  readonly kind = 'pre-signed sign-in';
  readonly label = 'the wallet sign-in in VENICE_SIWX';
  readonly maxInFlight = 1;
  readonly refusedHint =
    'sign a fresh SIGN-IN-WITH-X value (Venice accepts each once, within five minutes of signing) and set it in VENICE_SIWX, or set VENICE_WALLET_PRIVATE_KEY to sign every request, or use an API key in VENICE_API_KEY';
  readonly secrets: readonly string[];
  private used = false;

  constructor(private readonly value: string) {
    checkApiKey(value, 'the wallet sign-in', 'sign-in');
    this.secrets = [value];
  }

  headers(): Promise<Record<string, string>> {
    if (this.used) {
      return Promise.reject(
        new ImagePromptError({
          code: 'WALLET_SIGN_IN_USED',
          message: 'the SIGN-IN-WITH-X value in VENICE_SIWX was already sent once, and Venice accepts each value once: this request was not sent',
          hint: 'set VENICE_WALLET_PRIVATE_KEY for a wallet that signs every request (retries too), or use an API key in VENICE_API_KEY; VENICE_SIWX pays for runs with one miss',
        }),
      );
    }
    this.used = true;
    return Promise.resolve({ 'SIGN-IN-WITH-X': this.value });
  }
}
