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
import { canPayAnyProvider } from '../config/engine-options.js';
import { CATALOG_DATE } from '../catalog/model-catalog.js';
import { fetchLiveCatalog } from '../catalog/live-catalog.js';
import type { Logger } from '../logger.js';
import { EXIT, check, generate, models, plan, prune, styles, type CommandContext } from './commands.js';
import { findPromptFiles } from './find-prompt-files.js';
import { review } from './review-command.js';
import { pull, push } from './shared-cache-commands.js';
import { parseShard, type Shard } from './shard.js';
import { COMMAND_HELP, commandUsage, overview, unknownCommand, unknownOption } from './usage.js';
import { readFileSync } from 'node:fs';

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
        'site-url': { type: 'string' },
        verify: { type: 'boolean', default: false },
        shard: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${unknownOption((error as Error).message)}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  let [name, ...globs] = positionals;
  // `imageprompt help [command]` is `imageprompt [command] --help`
  if (name === 'help') [name, ...globs] = globs;
  const helpAsked = values.help || positionals[0] === 'help';
  if (!name) {
    process.stdout.write(`${overview()}\n`);
    return helpAsked ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  if (!command || !COMMAND_HELP[name]) {
    process.stderr.write(`${unknownCommand(name)}\n`);
    return EXIT.usage;
  }
  if (helpAsked) {
    process.stdout.write(`${commandUsage(name)}\n`);
    return EXIT.ok;
  }
  const number = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`--${flag} needs a number of 0 or more, got "${text}"`);
    return value;
  };
  const siteUrlOf = (text: string) => {
    if (!/^https?:\/\/[^\s]+$/.test(text) || !URL.canParse(text)) throw new RangeError(`--site-url needs an http(s) URL where the review site is published, got "${text}"`);
    return text;
  };
  const warnings: Logger = {
    info: () => {},
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
    error: () => {},
  };
  let engine: ImagePromptEngine;
  let siteUrl: string | undefined;
  let shard: Shard | undefined;
  let priceSource = `the bundled catalog of ${CATALOG_DATE}`;
  try {
    if (values['site-url'] !== undefined) siteUrl = siteUrlOf(values['site-url']);
    const shardText = values.shard ?? (process.env.IMAGEPROMPT_SHARD || undefined);
    if (shardText !== undefined && (name === 'generate' || name === 'plan')) shard = parseShard(shardText, values.shard !== undefined ? '--shard' : 'IMAGEPROMPT_SHARD');
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
    if (name === 'generate' && !canPayAnyProvider(engine.options)) {
      process.stderr.write('imageprompt: generate needs a Venice API key: set VENICE_API_KEY, or VENICE_WALLET_PRIVATE_KEY to pay with an x402 wallet (try `imageprompt plan` to see what it would do)\n');
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
    verify: values.verify,
    ...(siteUrl !== undefined ? { siteUrl } : {}),
    ...(shard ? { shard } : {}),
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

/** The package's version, from its package.json (two folders above this file in dist/cli/). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The command's name before a message, once, with the message's "→ what to do" line kept. */
function prefixed(message: string): string {
  return `imageprompt: ${message.replace(/^imageprompt: /, '')}`;
}
