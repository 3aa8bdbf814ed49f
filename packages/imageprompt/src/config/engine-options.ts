/** The engine's options, and the one place that fills their defaults and reads the environment. */
import { isAbsolute, resolve } from 'node:path';
import { CONFIG_FILE, CONFIG_KEYS, checkConfig, readConfigFile, type ConfigFile } from './config-file.js';
import { checkApiKey, checkBaseURL, configError } from './connection-checks.js';
import type { StorageDriver } from '../remote/driver-backend.js';
import { resolveRemote, type RemoteSettings } from '../remote/remote-settings.js';
import { consoleLogger, type Logger } from '../logger.js';
import { parseDefaults } from '../prompt/prompt-file.js';
import type { PromptDefaults } from '../prompt/prompt-schema.js';
import { ImagePromptError } from '../errors/errors.js';
import { seeDocs } from '../errors/docs-pages.js';
import { didYouMean } from '../prompt/did-you-mean.js';
import type { RetryPolicy } from '../http/retry-policy.js';
import { DEFAULT_BASE_URL } from '../venice/venice-client.js';
import { WalletSignIn } from '../venice/wallet-sign-in.js';

/**
 * What to do on a cache miss:
 * - `generate`: call Venice (needs a key);
 * - `frozen`: call nothing; the build fails listing every miss;
 * - `placeholder`: call nothing; draw a marked local placeholder of the right size and format.
 * Unset: `generate` with a key; without one, a dev server shows placeholders and a build fails.
 */
export type Mode = 'generate' | 'frozen' | 'placeholder';
export const MODES: readonly Mode[] = ['generate', 'frozen', 'placeholder'];

export interface EngineOptions {
  /** Project root: the cache directory and log paths are relative to it. @default process.cwd() */
  root?: string;
  /**
   * Where generated images are kept, relative to `root`. Commit it, or keep it in a CI cache.
   * @default process.env.IMAGEPROMPT_CACHE_DIR ?? '.imageprompt'
   */
  cacheDir?: string;
  /** Venice API key. @default process.env.VENICE_API_KEY */
  apiKey?: string;
  /**
   * An x402 wallet's `SIGN-IN-WITH-X` header value, sent instead of a key. Venice accepts each
   * signed value once, for about five minutes: it pays for one request. @default process.env.VENICE_SIWX
   */
  siwx?: string;
  /**
   * An EVM wallet's private key (64 hex digits), which signs a fresh `SIGN-IN-WITH-X` for every
   * request to Venice, instead of a key; wins over `siwx` and `apiKey`. Never written anywhere.
   * @default process.env.VENICE_WALLET_PRIVATE_KEY
   */
  walletPrivateKey?: string;
  /** Venice API base URL. @default process.env.VENICE_BASE_URL ?? 'https://api.venice.ai/api/v1' */
  baseURL?: string;
  /**
   * Request fields every prompt file starts from; a prompt file's own fields win. They change request
   * keys, so they go in `imageprompt.config.json` (which the command reads too); given in code they are
   * an error that shows the JSON to write there. @default {}
   */
  defaults?: PromptDefaults;
  /** Requests to Venice at once, across all prompt files. @default 3 */
  concurrency?: number;
  /** Per request attempt, in milliseconds. @default 180000 */
  timeoutMs?: number;
  /** Keep images Venice blurred under safe mode instead of failing them. @default false */
  acceptBlurred?: boolean;
  /** Retry tuning. @default { maxAttempts: 5, baseDelayMs: 500, maxBackoffMs: 8000, maxWaitMs: 120000 } */
  retry?: Partial<RetryPolicy>;
  /** Where the plugin and the engine say what they do. @default console, each line prefixed [imageprompt] */
  logger?: Logger;
  /**
   * What a cache miss does: `generate` (call Venice), `frozen` (call nothing; the build fails listing
   * every miss) or `placeholder` (call nothing; draw a marked placeholder). `IMAGEPROMPT_MODE` overrides it.
   * @default generate with a key; without one, placeholders in a dev server and a failed build otherwise
   */
  mode?: Mode;
  /** Set by the plugin: a dev server may fall back to placeholders, a build may not. @default 'build' */
  context?: 'dev' | 'build';
  /** Where placeholders are drawn. @default '<root>/node_modules/.cache/imageprompt/placeholders' */
  placeholderDir?: string;
  /**
   * Stop the run before the first attempt that would take what Venice charged (catalog prices,
   * retries included) over this many US dollars; later misses are not sent either. @default no cap
   */
  maxSpendUsd?: number;
  /**
   * The shared cache every machine reads and trusted CI writes: `s3://<bucket>/<prefix>`, an
   * `http(s)://` URL answering GET and PUT, or (in a JS config) a storage driver object such as an
   * unstorage driver. `IMAGEPROMPT_REMOTE` when unset. Credentials only from the environment.
   * As an object: `{ url, timeoutMs }`, where `timeoutMs` bounds each operation, body included
   * (default 10000): the first that runs over sets the shared cache aside for the rest of the run.
   * @default none
   */
  remote?: string | StorageDriver | RemoteOption;
  /**
   * Give every image a blur-up placeholder (`blurDataURL`), its ThumbHash, dominant `color` and
   * `aspectRatio`, computed once when it enters the cache. `false` for the smallest modules.
   * @default true
   */
  metadata?: boolean;
  /**
   * Other OpenAI-compatible image APIs, by name, for prompt files with `"api": "openai"` and
   * `"provider": "<name>"`: each with its base URL and the environment variable holding its key. They
   * change request keys, so they go in `imageprompt.config.json` only. @default {}
   */
  providers?: Record<string, { baseURL: string; apiKeyEnv: string }>;
}

/** The shared cache as an object: where it is (or IMAGEPROMPT_REMOTE) and how long one operation may take. */
export interface RemoteOption {
  url?: string | StorageDriver;
  /** @default 10000 */
  timeoutMs?: number;
}

export interface ResolvedEngineOptions {
  root: string;
  cacheDir: string;
  apiKey: string | undefined;
  /** The wallet sign-in, used instead of the key when set. */
  siwx: string | undefined;
  /** The wallet that signs every request, used instead of `siwx` and the key when set. */
  wallet: WalletSignIn | undefined;
  baseURL: string;
  defaults: PromptDefaults;
  concurrency: number;
  timeoutMs: number;
  acceptBlurred: boolean;
  retry: Partial<RetryPolicy>;
  logger: Logger;
  /** The mode chosen by option or environment, or undefined to decide by key and context. */
  mode: Mode | undefined;
  /** Where the mode came from, for messages. */
  modeSource: 'IMAGEPROMPT_MODE' | 'the mode option' | undefined;
  context: 'dev' | 'build';
  placeholderDir: string;
  maxSpendUsd: number | undefined;
  /** The shared cache, or undefined for none (or IMAGEPROMPT_REMOTE_MODE=off). */
  remote: RemoteSettings | undefined;
  metadata: boolean;
  /** Named OpenAI-compatible providers, their base URLs checked and keys read from the variables named. */
  providers: Record<string, ResolvedProvider>;
}

export interface ResolvedProvider {
  baseURL: string;
  apiKeyEnv: string;
  apiKey: string | undefined;
}

export function resolveEngineOptions(given: EngineOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedEngineOptions {
  const root = resolve(given.root ?? process.cwd());
  const file = readConfigFile(root);
  const fromCode = definedOnly(given);
  checkOptionNames(given);
  checkConfig(pick(fromCode, CONFIG_KEYS), 'options');
  checkKeySettingsHome(fromCode, file);
  const options: EngineOptions = { ...file, ...fromCode } as EngineOptions;
  const envCacheDir = env.IMAGEPROMPT_CACHE_DIR;
  if (options.cacheDir === undefined && envCacheDir && envCacheDir.trim() === '') {
    throw configError('IMAGEPROMPT_CACHE_DIR', 'is set but empty', 'unset it for the default .imageprompt, or name a directory');
  }
  const cacheDir = options.cacheDir ?? (envCacheDir || '.imageprompt');
  const mode = (env.IMAGEPROMPT_MODE || options.mode || undefined) as Mode | undefined;
  if (mode !== undefined && !MODES.includes(mode)) {
    throw configError(env.IMAGEPROMPT_MODE ? 'IMAGEPROMPT_MODE' : 'the mode option', `is "${mode}", which is not a mode`, `use one of ${MODES.join(', ')}`);
  }
  const apiKey = options.apiKey || env.VENICE_API_KEY || undefined;
  if (apiKey) checkApiKey(apiKey, options.apiKey ? 'the apiKey option' : 'VENICE_API_KEY');
  const siwx = options.siwx || env.VENICE_SIWX || undefined;
  if (siwx) checkApiKey(siwx, options.siwx ? 'the siwx option' : 'VENICE_SIWX', 'sign-in');
  const walletKey = options.walletPrivateKey || env.VENICE_WALLET_PRIVATE_KEY || undefined;
  const wallet = walletKey ? new WalletSignIn(walletKey, options.walletPrivateKey ? 'the walletPrivateKey option' : 'VENICE_WALLET_PRIVATE_KEY') : undefined;
  const baseURL = checkBaseURL(options.baseURL || env.VENICE_BASE_URL || DEFAULT_BASE_URL, options.baseURL ? 'the baseURL option' : 'VENICE_BASE_URL');
  return {
    root,
    cacheDir: isAbsolute(cacheDir) ? cacheDir : resolve(root, cacheDir),
    apiKey,
    siwx,
    wallet,
    baseURL,
    defaults: parseDefaults(options.defaults),
    concurrency: options.concurrency ?? 3,
    timeoutMs: options.timeoutMs ?? 180_000,
    acceptBlurred: options.acceptBlurred ?? false,
    retry: options.retry ?? {},
    logger: options.logger ?? consoleLogger,
    mode,
    modeSource: env.IMAGEPROMPT_MODE ? 'IMAGEPROMPT_MODE' : mode ? 'the mode option' : undefined,
    context: options.context ?? 'build',
    placeholderDir: options.placeholderDir ?? resolve(root, 'node_modules', '.cache', 'imageprompt', 'placeholders'),
    maxSpendUsd: options.maxSpendUsd,
    remote: resolveRemote(mergeRemote(file.remote, fromCode.remote as EngineOptions['remote']), env),
    metadata: options.metadata ?? true,
    providers: resolveProviders(options.providers ?? {}, env),
  };
}

/** Settings that change request keys: their one home is `imageprompt.config.json`. */
const KEY_SETTINGS = ['defaults', 'providers'] as const;

/**
 * A setting that changes request keys lives in `imageprompt.config.json` only, which the plugin and
 * the command both read: given in code, the command (check, plan, generate, prune, pull) on a fresh
 * clone would compute other keys than the build. So it is one error that shows the JSON to put in
 * the file (merged with what the file holds), whatever bundler the options were given to.
 */
function checkKeySettingsHome(fromCode: Record<string, unknown>, file: ConfigFile): void {
  const given = KEY_SETTINGS.filter((name) => fromCode[name] !== undefined);
  if (given.length === 0) return;
  const merged: Record<string, unknown> = { ...file };
  delete merged.$schema;
  for (const name of given) {
    const inFile = file[name] as Record<string, unknown> | undefined;
    merged[name] = { ...inFile, ...(fromCode[name] as Record<string, unknown>) };
  }
  const names = given.map((name) => `"${name}"`).join(' and ');
  throw new ImagePromptError({
    code: 'INVALID_CONFIG',
    file: 'options',
    field: given[0],
    message: `${names} change${given.length === 1 ? 's' : ''} request keys, so ${given.length === 1 ? 'it belongs' : 'they belong'} in ${CONFIG_FILE}, which the build and the imageprompt command both read, not in code`,
    hint: `remove ${names} from the options and write this to ${CONFIG_FILE} at the project root:\n    ${JSON.stringify(merged)}`,
  });
}

/** The config file's remote settings with those given in code (or by `--remote`) over them. */
function mergeRemote(fromFile: EngineOptions['remote'], fromCode: EngineOptions['remote']): RemoteOption {
  const asObject = (value: EngineOptions['remote']): RemoteOption =>
    value === undefined ? {} : typeof value === 'string' || !('timeoutMs' in value || 'url' in value) ? { url: value as string | StorageDriver } : (value as RemoteOption);
  return { ...asObject(fromFile), ...definedOnly(asObject(fromCode)) };
}

function resolveProviders(given: Record<string, { baseURL: string; apiKeyEnv: string }>, env: NodeJS.ProcessEnv): Record<string, ResolvedProvider> {
  const providers: Record<string, ResolvedProvider> = {};
  for (const [name, { baseURL, apiKeyEnv }] of Object.entries(given)) {
    const apiKey = env[apiKeyEnv] || undefined;
    if (apiKey) checkApiKey(apiKey, apiKeyEnv);
    providers[name] = { baseURL: checkBaseURL(baseURL, `providers.${name}.baseURL`), apiKeyEnv, apiKey };
  }
  return providers;
}

/** Options only code can give: secrets and places come from the environment or code, never a committed file. */
const CODE_ONLY_OPTIONS = ['root', 'apiKey', 'siwx', 'walletPrivateKey', 'baseURL', 'logger', 'context', 'placeholderDir'] as const;
/** Options the plugin takes for itself before the engine sees the rest. */
const PLUGIN_OPTIONS = ['waitInDev'] as const;

/**
 * An option the engine does not know is an error, as an unknown field in a prompt file is: a typo
 * (`concurency`, `maxSpendUSD`) must not pass silently and leave a default, or a cap, unset.
 */
function checkOptionNames(given: object): void {
  const known = [...CONFIG_KEYS, ...CODE_ONLY_OPTIONS];
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue;
    if ((PLUGIN_OPTIONS as readonly string[]).includes(name)) {
      throw new ImagePromptError({ code: 'INVALID_CONFIG', file: 'options', field: name, message: 'is an option of the plugin, not of the engine', hint: 'give it to the bundler plugin (unplugin-imageprompt), or leave it out' });
    }
    const suggestion = didYouMean(name, [...known, ...PLUGIN_OPTIONS]);
    throw new ImagePromptError({
      code: 'INVALID_CONFIG',
      file: 'options',
      field: name,
      message: 'is not an imageprompt option',
      hint: suggestion ? `did you mean "${suggestion}"?` : `the options are ${[...known, ...PLUGIN_OPTIONS].sort().join(', ')} (${seeDocs('options.md')})`,
    });
  }
}

function pick(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => keys.includes(k)));
}

function definedOnly(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** Whether anything can pay Venice: a key, a wallet, or one pre-signed wallet sign-in. */
export function canPayVenice(options: Pick<ResolvedEngineOptions, 'apiKey' | 'siwx' | 'wallet'>): boolean {
  return Boolean(options.apiKey || options.siwx || options.wallet);
}

/** Whether any provider can be paid: Venice, or a named OpenAI-compatible provider with its key. */
export function canPayAnyProvider(options: Pick<ResolvedEngineOptions, 'apiKey' | 'siwx' | 'wallet' | 'providers'>): boolean {
  return canPayVenice(options) || Object.values(options.providers).some((p) => p.apiKey);
}
