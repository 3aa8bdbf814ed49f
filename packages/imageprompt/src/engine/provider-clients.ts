/**
 * One HTTP client per provider, made on first use, so that each key goes only to its own base URL:
 * Venice with its key or wallet, a named OpenAI-compatible provider with the key its
 * variable holds. A provider without a key is a clear error naming what to set.
 */
import { canPayVenice, type ResolvedEngineOptions } from '../config/engine-options.js';
import { ImagePromptError } from '../errors/errors.js';
import { PROVIDER } from '../prompt/request-key.js';
import { VeniceClient } from '../venice/venice-client.js';

export class ProviderClients {
  private clients = new Map<string, VeniceClient>();

  constructor(private readonly options: ResolvedEngineOptions) {}

  /** Answers, over every provider, that said they came from a simulator. */
  get simulatorAnswers(): number {
    return [...this.clients.values()].reduce((sum, client) => sum + client.simulatorAnswers, 0);
  }

  /** The paying wallet's balance in USD as Venice last gave it (`X-Balance-Remaining`), if it did. */
  get walletBalanceUsd(): string | undefined {
    return this.clients.get(PROVIDER)?.balanceRemaining;
  }

  /** The client for `provider`; `file` is what an error names. */
  get(provider: string, file: string): VeniceClient {
    const existing = this.clients.get(provider);
    if (existing) return existing;
    const { options } = this;
    const common = { timeoutMs: options.timeoutMs, retry: options.retry, acceptBlurred: options.acceptBlurred };
    let client: VeniceClient;
    if (provider === PROVIDER) {
      const { apiKey, siwx, wallet, baseURL } = options;
      if (!canPayVenice(options)) {
        throw new ImagePromptError({
          code: 'MISSING_API_KEY',
          file,
          message: 'generate mode needs a Venice API key or a wallet, and none is set',
          hint: 'set VENICE_API_KEY (or the apiKey option), or VENICE_WALLET_PRIVATE_KEY to pay with an x402 wallet',
        });
      }
      // a wallet signs every request; one pre-signed sign-in pays for one; else the key
      client = new VeniceClient({ ...(wallet ? { credential: wallet } : siwx ? { siwx } : { apiKey }), baseURL, ...common });
    } else {
      const settings = options.providers[provider]!;
      if (!settings.apiKey) {
        throw new ImagePromptError({
          code: 'MISSING_API_KEY',
          file,
          message: `provider "${provider}" needs its key in ${settings.apiKeyEnv}, and that variable is not set`,
          hint: `set ${settings.apiKeyEnv}; each provider's key goes only to its own base URL`,
        });
      }
      client = new VeniceClient({ apiKey: settings.apiKey, baseURL: settings.baseURL, label: `provider "${provider}"`, ...common });
    }
    this.clients.set(provider, client);
    return client;
  }
}
