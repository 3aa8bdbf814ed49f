#!/usr/bin/env node
/**
 * `imageprompt <command> [globs…] [options]`
 *
 * Exit codes: 0 success; 1 a prompt file is invalid, an image failed, or (check) images are missing
 * from the cache; 2 a usage or configuration error; 3 generate stopped at the spend cap.
 */
import { parseArgs } from 'node:util';
import { ImagePromptEngine } from '../engine/engine.js';
import { ImagePromptError } from '../errors/errors.js';
import { CATALOG_DATE } from '../catalog/model-catalog.js';
import { fetchLiveCatalog } from '../catalog/live-catalog.js';
import type { Logger } from '../logger.js';
import { EXIT, check, generate, models, plan, prune, styles, type CommandContext } from './commands.js';
import { findPromptFiles } from './find-prompt-files.js';
import { review } from './review-command.js';
import { pull, push } from './shared-cache-commands.js';

const USAGE = `Usage: imageprompt <command> [globs…] [options]

Commands:
  generate [globs]   generate every prompt file missing from the cache (needs VENICE_API_KEY)
  plan [globs]       list what generate would do and its estimated price; spends nothing
  check [globs]      exit 1 if any prompt file is invalid or missing from the cache
  prune [--dry-run]  remove cache entries and blobs that no prompt file in the project references
                     (the shared cache too with --remote <url>; run with --dry-run first)
  pull [globs]       fill the local cache from the shared cache (IMAGEPROMPT_REMOTE)
  push               upload local entries the shared cache lacks
  review [globs]     write a static review site of every prompt file's images (imageprompt-review/);
                     --since <git-ref> compares with a commit, --markdown adds summary.md
  styles             Venice's style_preset names
  models             Venice's image models: sizing, sizes and price

Options:
  --root <dir>          project root (default: the current directory)
  --cache-dir <dir>     cache directory (default: .imageprompt, or imageprompt.config.json's)
  --concurrency <n>     requests at once (default 3)
  --max-spend <usd>     generate: stop before the call that would cross this many US dollars
  --json                machine-readable output (plan, check, prune, styles, models)
  --dry-run             prune: list what would be removed, remove nothing
  --remote <url>        the shared cache: s3://<bucket>/<prefix> or an http(s):// URL
  --since <git-ref>     review: show what changed since that commit, before and after
  --out <dir>           review: where the site is written (default imageprompt-review)
  --markdown            review: also write summary.md (a CI job summary or pull-request comment)
  -h, --help

Globs default to **/*.imageprompt.json; node_modules, the cache and .gitignore'd paths are skipped.
VENICE_API_KEY and VENICE_BASE_URL are read from the environment.
Exit codes: 0 ok · 1 invalid, failed or missing · 2 usage error · 3 stopped at the spend cap`;

const COMMANDS = { generate, plan, check, prune, pull, push, review, styles, models } as const;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string' },
        'cache-dir': { type: 'string' },
        concurrency: { type: 'string' },
        'max-spend': { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        remote: { type: 'string' },
        since: { type: 'string' },
        out: { type: 'string' },
        markdown: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${prefixed((error as Error).message)}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [name, ...globs] = positionals;
  if (values.help || !name) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  if (!command) {
    process.stderr.write(`imageprompt: unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const number = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`--${flag} needs a number of 0 or more, got "${text}"`);
    return value;
  };
  const warnings: Logger = {
    info: () => {},
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
    error: () => {},
  };
  let engine: ImagePromptEngine;
  let priceSource = `the bundled catalog of ${CATALOG_DATE}`;
  try {
    const base = { root: values.root, cacheDir: values['cache-dir'], concurrency: number('concurrency', values.concurrency), maxSpendUsd: number('max-spend', values['max-spend']), remote: values.remote, logger: warnings, mode: 'generate' as const };
    engine = new ImagePromptEngine(base);
    // the command asks for generate mode; only IMAGEPROMPT_MODE can have said otherwise
    if (name === 'generate' && engine.options.mode !== 'generate') {
      process.stderr.write(
        `imageprompt: generate calls Venice, but IMAGEPROMPT_MODE=${engine.options.mode} says not to; nothing was generated\n  → unset IMAGEPROMPT_MODE (or set it to generate) to fill the cache, or run \`imageprompt check\` to list what is missing\n`,
      );
      return EXIT.usage;
    }
    if (name === 'plan' || name === 'generate') {
      const live = await fetchLiveCatalog(engine.options.baseURL);
      if (live) {
        engine = new ImagePromptEngine(base, live);
        priceSource = `${engine.options.baseURL}/models?type=image`;
      }
    }
    const { apiKey, siwx, providers } = engine.options;
    if (name === 'generate' && !apiKey && !siwx && !Object.values(providers).some((p) => p.apiKey)) {
      process.stderr.write('imageprompt: generate needs a Venice API key: set VENICE_API_KEY, or VENICE_SIWX for an x402 wallet (try `imageprompt plan` to see what it would do)\n');
      return EXIT.usage;
    }
  } catch (error) {
    process.stderr.write(`${prefixed((error as Error).message)}\n`);
    return EXIT.usage;
  }
  const needsFiles = name !== 'styles' && name !== 'models';
  const files = needsFiles ? await findPromptFiles(engine.options.root, globs, engine.options.cacheDir) : [];
  const context: CommandContext = {
    engine,
    files,
    globs,
    json: values.json,
    dryRun: values['dry-run'],
    pruneRemote: values.remote !== undefined,
    priceSource,
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values.out !== undefined ? { outDir: values.out } : {}),
    markdown: values.markdown,
    out: (line) => process.stdout.write(`${line}\n`),
  };
  return command(context);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof ImagePromptError ? error.message : (error as Error)?.stack ?? String(error);
    process.stderr.write(`${prefixed(message)}\n`);
    process.exitCode = EXIT.usage;
  },
);

/** The command's name before a message, once, with the message's "→ what to do" line kept. */
function prefixed(message: string): string {
  return `imageprompt: ${message.replace(/^imageprompt: /, '')}`;
}
