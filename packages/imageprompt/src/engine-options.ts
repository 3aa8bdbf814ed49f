/** The engine's options, and the one place that fills their defaults and reads the environment. */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ImagePromptError } from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import { parseDefaults } from './prompt-file.js';
import type { PromptDefaults } from './prompt-schema.js';
import type { RetryPolicy } from './retry-policy.js';
import { DEFAULT_BASE_URL } from './venice-client.js';

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
  /** Venice API base URL. @default process.env.VENICE_BASE_URL ?? 'https://api.venice.ai/api/v1' */
  baseURL?: string;
  /** Request fields every prompt file starts from; a prompt file's own fields win. @default {} */
  defaults?: PromptDefaults;
  /** Requests to Venice at once, across all prompt files. @default 3 */
  concurrency?: number;
  /** Per request attempt, in milliseconds. @default 180000 */
  timeoutMs?: number;
  /** Keep images Venice blurred under safe mode instead of failing them. @default false */
  acceptBlurred?: boolean;
  /** Retry tuning. @default { maxAttempts: 5, baseDelayMs: 500, maxBackoffMs: 8000, maxWaitMs: 120000 } */
  retry?: Partial<RetryPolicy>;
  /** @default console with an `[imageprompt]` prefix */
  logger?: Logger;
  /** What a cache miss does; `IMAGEPROMPT_MODE` overrides it. @default by key: see {@link Mode} */
  mode?: Mode;
  /** Set by the plugin: a dev server may fall back to placeholders, a build may not. @default 'build' */
  context?: 'dev' | 'build';
  /** Where placeholders are drawn. @default '<root>/node_modules/.cache/imageprompt/placeholders' */
  placeholderDir?: string;
  /**
   * Stop generating before the call that would take this run's spending (catalog prices) over this
   * many US dollars. @default no cap
   */
  maxSpendUsd?: number;
}

/** The options `imageprompt.config.json` at the project root may hold, shared by the plugin and the CLI. */
const CONFIG_FILE = 'imageprompt.config.json';
const CONFIG_KEYS = ['defaults', 'cacheDir', 'concurrency', 'timeoutMs', 'acceptBlurred', 'mode', 'maxSpendUsd', 'retry'] as const;

function readConfigFile(root: string): Partial<EngineOptions> {
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ImagePromptError({ code: 'INVALID_JSON', file: path, message: `invalid JSON: ${(error as Error).message}`, hint: 'fix the JSON syntax' });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: path, message: 'expected a JSON object', hint: `allowed keys: ${CONFIG_KEYS.join(', ')}` });
  }
  for (const key of Object.keys(data)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file: path, field: key, message: 'is not an imageprompt option', hint: `allowed keys: ${CONFIG_KEYS.join(', ')}; the API key belongs in VENICE_API_KEY, never in a file` });
    }
  }
  return data as Partial<EngineOptions>;
}

export interface ResolvedEngineOptions {
  root: string;
  cacheDir: string;
  apiKey: string | undefined;
  baseURL: string;
  defaults: PromptDefaults;
  concurrency: number;
  timeoutMs: number;
  acceptBlurred: boolean;
  retry: Partial<RetryPolicy>;
  logger: Logger;
  /** The mode chosen by option or environment, or undefined to decide by key and context. */
  mode: Mode | undefined;
  context: 'dev' | 'build';
  placeholderDir: string;
  maxSpendUsd: number | undefined;
}

export function resolveEngineOptions(given: EngineOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedEngineOptions {
  const root = resolve(given.root ?? process.cwd());
  const options: EngineOptions = { ...readConfigFile(root), ...definedOnly(given) };
  const cacheDir = options.cacheDir ?? (env.IMAGEPROMPT_CACHE_DIR || '.imageprompt');
  const concurrency = options.concurrency ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`imageprompt: option "concurrency" must be a whole number of 1 or more, got ${String(concurrency)}`);
  }
  const mode = (env.IMAGEPROMPT_MODE || options.mode || undefined) as Mode | undefined;
  if (mode !== undefined && !MODES.includes(mode)) {
    throw new RangeError(`imageprompt: mode "${mode}" (from ${env.IMAGEPROMPT_MODE ? 'IMAGEPROMPT_MODE' : 'the mode option'}) is not one of ${MODES.join(', ')}`);
  }
  return {
    root,
    cacheDir: isAbsolute(cacheDir) ? cacheDir : resolve(root, cacheDir),
    apiKey: options.apiKey || env.VENICE_API_KEY || undefined,
    baseURL: options.baseURL || env.VENICE_BASE_URL || DEFAULT_BASE_URL,
    defaults: parseDefaults(options.defaults),
    concurrency,
    timeoutMs: options.timeoutMs ?? 180_000,
    acceptBlurred: options.acceptBlurred ?? false,
    retry: options.retry ?? {},
    logger: options.logger ?? consoleLogger,
    mode,
    context: options.context ?? 'build',
    placeholderDir: options.placeholderDir ?? resolve(root, 'node_modules', '.cache', 'imageprompt', 'placeholders'),
    maxSpendUsd: checkSpend(options.maxSpendUsd),
  };
}

function checkSpend(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`imageprompt: option "maxSpendUsd" must be a number of US dollars, 0 or more, got ${String(value)}`);
  }
  return value;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
