/** `imageprompt.config.json` and code-given options: one strict schema, one clear error each, before anything runs. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ImagePromptEngine, ImagePromptError, resolveEngineOptions, silentLogger, type EngineOptions } from '../../src/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'imageprompt-config-'));
  return () => rm(root, { recursive: true, force: true });
});

const withFile = async (text: string) => {
  await writeFile(join(root, 'imageprompt.config.json'), text);
  try {
    new ImagePromptEngine({ root, logger: silentLogger });
    return undefined;
  } catch (error) {
    return error as ImagePromptError;
  }
};

describe('imageprompt.config.json', () => {
  it.each([
    ['{ "retry": { "maxAttempts": "x" } }', 'retry.maxAttempts', /must be a number, found "x"/],
    ['{ "retry": { "maxAttempts": 0 } }', 'retry.maxAttempts', /must be at least 1/],
    ['{ "retry": { "maxAtempts": 3 } }', 'retry.maxAtempts', /is not an imageprompt option[\s\S]*did you mean "maxAttempts"/],
    ['{ "timeoutMs": -5 }', 'timeoutMs', /must be at least 1/],
    ['{ "timeoutMs": 0 }', 'timeoutMs', /must be at least 1/],
    ['{ "concurrency": 1.5 }', 'concurrency', /must be a whole number/],
    ['{ "cacheDir": "" }', 'cacheDir', /must not be empty/],
    ['{ "cacheDir": "   " }', 'cacheDir', /must not be empty/],
    ['{ "mode": "frozzen" }', 'mode', /"frozzen" is not allowed[\s\S]*use one of "generate", "frozen", "placeholder"/],
    ['{ "maxSpendUsd": -1 }', 'maxSpendUsd', /must be 0 or more/],
    ['{ "acceptBlurred": "yes" }', 'acceptBlurred', /must be a boolean/],
    ['{ "modle": "z-image-turbo" }', 'modle', /is not an imageprompt option[\s\S]*did you mean "mode"/],
    ['{ "defaults": { "modle": "z-image-turbo" } }', 'defaults.modle', /is not a field Venice accepts[\s\S]*did you mean "model"/],
    ['{ "apiKey": "sk-123" }', 'apiKey', /the API key belongs in VENICE_API_KEY, never in a file/],
  ])('%s is one clear error', async (text, field, message) => {
    const error = await withFile(text);
    expect(error).toBeInstanceOf(ImagePromptError);
    expect(error!.code).toBe('INVALID_CONFIG');
    expect(error!.field).toBe(field);
    expect(error!.message).toMatch(new RegExp(`^imageprompt\\.config\\.json, field "${field.replace('.', '\\.')}": `));
    expect(error!.message).toMatch(message);
    expect(error!.hint).toBeTruthy();
  });

  it('names the line and column of a syntax error, a comment or a repeated key', async () => {
    expect((await withFile('{ "concurrency": 2, }'))!.message).toMatch(/^imageprompt\.config\.json:1:\d+: invalid JSON/);
    expect((await withFile('{\n  // mine\n  "concurrency": 2\n}'))!.message).toMatch(/^imageprompt\.config\.json:2:3: a comment/);
    expect((await withFile('{ "concurrency": 2, "concurrency": 3 }'))!.message).toMatch(/field "concurrency": appears twice/);
  });

  it('accepts every documented key', async () => {
    const text = JSON.stringify({
      defaults: { model: 'z-image-turbo' },
      cacheDir: 'images-cache',
      concurrency: 2,
      timeoutMs: 60_000,
      acceptBlurred: true,
      mode: 'frozen',
      maxSpendUsd: 5,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxBackoffMs: 1000, maxWaitMs: 10_000 },
    });
    expect(await withFile(text)).toBeUndefined();
  });
});

describe('options given in code', () => {
  it.each<[EngineOptions, string, RegExp]>([
    [{ concurrency: 0 }, 'concurrency', /must be at least 1/],
    [{ retry: { maxAttempts: Number.NaN } }, 'retry.maxAttempts', /must be a number/],
    [{ timeoutMs: -1 }, 'timeoutMs', /must be at least 1/],
    [{ cacheDir: '' }, 'cacheDir', /must not be empty/],
  ])('%o is refused', (options, field, message) => {
    let error: ImagePromptError | undefined;
    try {
      resolveEngineOptions({ root, ...options });
    } catch (e) {
      error = e as ImagePromptError;
    }
    expect(error?.code).toBe('INVALID_CONFIG');
    expect(error?.field).toBe(field);
    expect(error?.message).toMatch(message);
  });

  it('an empty IMAGEPROMPT_CACHE_DIR is an error, not the project root', () => {
    expect(() => resolveEngineOptions({ root }, { IMAGEPROMPT_CACHE_DIR: ' ' })).toThrow(/IMAGEPROMPT_CACHE_DIR is set but empty/);
  });
});

describe('options given in code', () => {
  it.each([
    [{ maxSpendUSD: 0 }, 'maxSpendUSD', /did you mean "maxSpendUsd"/],
    [{ concurency: 2 }, 'concurency', /did you mean "concurrency"/],
    [{ apikey: 'x' }, 'apikey', /did you mean "apiKey"/],
    [{ waitInDev: true }, 'waitInDev', /an option of the plugin, not of the engine/],
  ])('%o is refused, naming the option', (options, field, hint) => {
    let error: ImagePromptError | undefined;
    try {
      resolveEngineOptions({ root, ...(options as EngineOptions) }, {});
    } catch (e) {
      error = e as ImagePromptError;
    }
    expect(error?.code).toBe('INVALID_CONFIG');
    expect(error?.field).toBe(field);
    expect(error?.message).toMatch(hint);
  });
});

describe('what a committed config can make the build send', () => {
  const provider = (apiKeyEnv: string) => JSON.stringify({ providers: { acme: { baseURL: 'https://images.example.com/v1', apiKeyEnv } } });

  it.each([
    ['AWS_SECRET_ACCESS_KEY', /kept for another service's secrets/],
    ['VENICE_API_KEY', /kept for another service's secrets/],
    ['IMAGEPROMPT_REMOTE_API_KEY', /kept for another service's secrets/],
    ['GITHUB_API_KEY', /kept for another service's secrets/],
    ['GITHUB_TOKEN', /ending in _API_KEY/],
    ['VENICE_SIWX', /ending in _API_KEY/],
    ['NPM_TOKEN', /ending in _API_KEY/],
  ])('a provider key variable named %s is refused, whatever the environment holds', async (name, problem) => {
    const error = await withFile(provider(name));
    expect(error?.code).toBe('INVALID_CONFIG');
    expect(error?.field).toBe('providers.acme.apiKeyEnv');
    expect(error?.message).toMatch(problem);
  });

  it('a variable made for the provider is taken', async () => {
    expect(await withFile(provider('ACME_API_KEY'))).toBeUndefined();
  });

  it('the remote timeout is an option, bounded, kept when --remote gives the URL', () => {
    const options = resolveEngineOptions({ root, remote: { url: 'http://127.0.0.1:9/cache', timeoutMs: 2500 } }, {});
    expect(options.remote?.timeoutMs).toBe(2500);
    expect(() => resolveEngineOptions({ root, remote: { timeoutMs: 0 } }, {})).toThrow(/remote\.timeoutMs[\s\S]*must be at least 1/);
  });

  it('the config file\'s remote timeout holds when the command gives the URL', async () => {
    await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ remote: { timeoutMs: 1500 } }));
    const options = resolveEngineOptions({ root, remote: 'http://127.0.0.1:9/cache' }, {});
    expect(options.remote?.timeoutMs).toBe(1500);
    expect(options.remote?.backend.label).toBe('http://127.0.0.1:9/cache');
  });
});
