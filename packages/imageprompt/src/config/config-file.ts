/**
 * `imageprompt.config.json` and the options given in code, checked by one strict schema: a wrong
 * type, an unknown key, an empty `cacheDir`, a zero or negative timeout or attempt count is one
 * clear error naming where it came from, the field and the fix, before anything runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { didYouMean } from '../prompt/did-you-mean.js';
import { ImagePromptError } from '../errors/errors.js';
import { describeUnknownField, parseJsonText, schemaError } from '../prompt/prompt-file.js';
import { defaultsSchema } from '../prompt/prompt-schema.js';
import { isStorageDriver, type StorageDriver } from '../remote/driver-backend.js';

import { CONFIG_FILE_NAME } from './config-file-name.js';

export const CONFIG_FILE = CONFIG_FILE_NAME;

const MODES = ['generate', 'frozen', 'placeholder'] as const;

/**
 * A committed config chooses which variable's value is sent as a bearer token to the provider's
 * base URL, so it may name only a variable made for that provider: `<NAME>_API_KEY`, and none of the
 * prefixes under which CI systems and this tool keep other secrets. VENICE_API_KEY goes to Venice only.
 */
const FORBIDDEN_KEY_VARIABLES = /^(VENICE|AWS|IMAGEPROMPT|GITHUB|ACTIONS|RUNNER|NPM|NODE|CI|GITLAB|BUILDKITE|CIRCLE|TRAVIS|JENKINS|VERCEL|NETLIFY)_/;

const positiveInt = (what: string) => z.number().int('must be a whole number').gte(1, `must be at least 1 (${what})`);

export const retrySchema = z.strictObject({
  maxAttempts: positiveInt('attempts in all, the first included').max(20, 'must be at most 20'),
  baseDelayMs: z.number().int('must be a whole number of milliseconds').gte(0, 'must be 0 or more'),
  maxBackoffMs: z.number().int('must be a whole number of milliseconds').gte(0, 'must be 0 or more'),
  maxWaitMs: z.number().int('must be a whole number of milliseconds').gte(0, 'must be 0 or more'),
}).partial();

const remoteStore = z.union([
  z.string().trim().min(1, 'must not be empty (leave it out for no shared cache)'),
  z.custom<StorageDriver>(isStorageDriver, 'must be an s3:// or http(s):// URL, or a storage driver object'),
]);

/** The options a config file may hold; code-given options are checked against the same fields. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  defaults: defaultsSchema.optional(),
  cacheDir: z.string().trim().min(1, 'must not be empty (leave it out for the default .imageprompt)').optional(),
  concurrency: positiveInt('requests to Venice at once').optional(),
  timeoutMs: positiveInt('milliseconds per request attempt').optional(),
  acceptBlurred: z.boolean().optional(),
  mode: z.enum(MODES).optional(),
  maxSpendUsd: z.number().gte(0, 'must be 0 or more US dollars').optional(),
  retry: retrySchema.optional(),
  metadata: z.boolean().optional(),
  providers: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, 'provider names are lower case, digits and dashes'),
      z.strictObject({
        baseURL: z.string().min(1, 'must be the API\'s base URL, e.g. https://api.openai.com/v1'),
        apiKeyEnv: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]*_API_KEY$/, 'must name an environment variable ending in _API_KEY, e.g. OPENAI_API_KEY (the key itself never goes in a file)')
          .refine((name) => !FORBIDDEN_KEY_VARIABLES.test(name), {
            message: "names a variable kept for another service's secrets (VENICE_*, AWS_*, IMAGEPROMPT_*, GITHUB_*, ACTIONS_*, RUNNER_*, NPM_*, CI_*); a provider's key needs its own variable, e.g. OPENAI_API_KEY",
          }),
      }),
    )
    .refine((p) => !('venice' in p), 'must not redefine "venice", the default provider')
    .optional(),
  remote: z
    .union([
      remoteStore,
      z.strictObject({
        /** Where it is; IMAGEPROMPT_REMOTE when left out. */
        url: remoteStore.optional(),
        /** The most one operation (a manifest, a blob, headers and body) may take before the shared cache is set aside. */
        timeoutMs: positiveInt('milliseconds for one shared-cache operation').max(600_000, 'must be at most 600000 (ten minutes)').optional(),
      }),
    ])
    .optional(),
});

export type ConfigFile = z.infer<typeof configSchema>;
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.shape).filter((k) => k !== '$schema');

const describeUnknownOption = (key: string, parent: string) => {
  if (parent === 'defaults' || parent.startsWith('defaults.')) return describeUnknownField(key);
  const known = parent === 'retry' ? Object.keys(retrySchema.shape) : CONFIG_KEYS;
  const suggestion = didYouMean(key, known);
  const secret = /key|token|secret/i.test(key) ? '; the API key belongs in VENICE_API_KEY, never in a file' : '';
  return {
    message: 'is not an imageprompt option',
    hint: suggestion ? `did you mean "${suggestion}"?${secret}` : `allowed keys are ${known.join(', ')}${secret}`,
  };
};

/** Checks options against the config schema; `origin` names where they came from in errors. */
export function checkConfig(data: unknown, origin: string): ConfigFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ImagePromptError({ code: 'INVALID_CONFIG', file: origin, message: 'expected a JSON object', hint: `allowed keys are ${CONFIG_KEYS.join(', ')}` });
  }
  const result = configSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw schemaError(result.error, origin, 'config.md', 'INVALID_CONFIG', describeUnknownOption);
  return result.data;
}

/** The project's config file, checked, or `{}` when there is none. */
export function readConfigFile(root: string): ConfigFile {
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ImagePromptError({
      code: 'INVALID_CONFIG',
      file: path,
      message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      hint: 'make it readable, or remove it',
    });
  }
  return checkConfig(parseJsonText(text, CONFIG_FILE, 'INVALID_CONFIG'), CONFIG_FILE);
}
