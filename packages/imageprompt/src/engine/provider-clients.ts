/**
 * One HTTP client per provider, made on first use, so that each key goes only to its own base URL:
 * Venice with its key or wallet sign-in, a named OpenAI-compatible provider with the key its
 * variable holds. A provider without a key is a clear error naming what to set.
 */
import type { ResolvedEngineOptions } from '../config/engine-options.js';
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

  /** The client for `provider`; `file` is what an error names. */
  get(provider: string, file: string): VeniceClient {
    const existing = this.clients.get(provider);
    if (existing) return existing;
    const { options } = this;
    const common = { timeoutMs: options.timeoutMs, retry: options.retry, acceptBlurred: options.acceptBlurred };
    let client: VeniceClient;
    if (provider === PROVIDER) {
      const { apiKey, siwx, baseURL } = options;
      if (!apiKey && !siwx) {
        throw new ImagePromptError({
          code: 'MISSING_API_KEY',
          file,
          message: 'generate mode needs a Venice API key, and none is set',
          hint: 'set VENICE_API_KEY (or the apiKey option), or VENICE_SIWX for an x402 wallet',
        });
      }
      client = new VeniceClient({ ...(siwx ? { siwx } : { apiKey }), baseURL, ...common });
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
