/**
 * What the command says about itself: the overview (`imageprompt --help`), each command's usage,
 * options and an example (`imageprompt <command> --help`, `imageprompt help <command>`), and a
 * did-you-mean for a command or option it does not know.
 */
import { didYouMean } from '../prompt/did-you-mean.js';

export interface CommandHelp {
  summary: string;
  usage: string;
  /** Option names (as in OPTIONS) this command reads. */
  options: string[];
  example: string;
  more?: string;
}

/** Every option, with what it takes and what it does. */
export const OPTIONS: Record<string, string> = {
  root: '--root <dir>          project root (default: the current directory)',
  'cache-dir': '--cache-dir <dir>     cache directory (default: .imageprompt, or imageprompt.config.json\'s)',
  concurrency: '--concurrency <n>     requests at once (default 3)',
  'max-spend': '--max-spend <usd>     stop before the call that would cross this many US dollars',
  json: '--json                machine-readable output',
  'dry-run': '--dry-run             list what would be removed, remove nothing',
  remote: '--remote <url>        the shared cache: s3://<bucket>/<prefix> or an http(s):// URL',
  since: '--since <git-ref>     show what changed since that commit, before and after',
  out: '--out <dir>           where the site is written (default imageprompt-review)',
  markdown: '--markdown            also write summary.md (a CI job summary or pull-request comment)',
  'site-url': '--site-url <url>      where the site will be published: summary.md links there',
  verify: '--verify              hash every byte again, instead of trusting what this machine verified before',
  shard: '--shard <i>/<n>       only this runner\'s share of the misses, split by request key (or IMAGEPROMPT_SHARD)',
};

const COMMON = ['root', 'cache-dir', 'remote'];

export const COMMAND_HELP: Record<string, CommandHelp> = {
  generate: {
    summary: 'generate every prompt file missing from the cache (needs VENICE_API_KEY)',
    usage: 'imageprompt generate [globs…] [options]',
    options: [...COMMON, 'concurrency', 'max-spend', 'shard'],
    example: 'VENICE_API_KEY=… npx imageprompt generate --max-spend 2',
    more: 'Exit 3 when it stopped at the spend cap; every miss after it is listed, not generated.',
  },
  plan: {
    summary: 'list what generate would do and its estimated price; spends nothing',
    usage: 'imageprompt plan [globs…] [options]',
    options: [...COMMON, 'shard', 'json'],
    example: 'npx imageprompt plan "src/**/*.imageprompt.json"',
  },
  check: {
    summary: 'exit 1 if any prompt file is invalid or missing from the cache; what this machine verified before under the same settings is taken from its hit index (`--verify`: hash every byte)',
    usage: 'imageprompt check [globs…] [options]',
    options: [...COMMON, 'verify', 'json'],
    example: 'npx imageprompt check --json',
  },
  prune: {
    summary: 'remove cache entries and blobs that no prompt file in the project references, and stale responsive derivatives',
    usage: 'imageprompt prune [--dry-run] [--remote <url>] [options]',
    options: [...COMMON, 'dry-run', 'json'],
    example: 'npx imageprompt prune --dry-run',
    more: 'With --remote, the shared cache too (nothing younger than a day); run with --dry-run first.',
  },
  pull: {
    summary: 'fill the local cache from the shared cache (IMAGEPROMPT_REMOTE)',
    usage: 'imageprompt pull [globs…] [options]',
    options: [...COMMON, 'concurrency'],
    example: 'IMAGEPROMPT_REMOTE=s3://my-bucket/imageprompt npx imageprompt pull',
  },
  push: {
    summary: 'upload local entries the shared cache lacks (or holds damaged)',
    usage: 'imageprompt push [options]',
    options: [...COMMON, 'concurrency'],
    example: 'IMAGEPROMPT_REMOTE=s3://my-bucket/imageprompt npx imageprompt push',
  },
  review: {
    summary: "write a static review site of every prompt file's images",
    usage: 'imageprompt review [globs…] [--since <git-ref>] [--out <dir>] [--markdown] [--site-url <url>]',
    options: [...COMMON, 'since', 'out', 'markdown', 'site-url', 'json'],
    example: 'npx imageprompt review --since origin/main --markdown',
    more: 'The site goes to imageprompt-review/; --out refuses a directory the command did not write.',
  },
  styles: {
    summary: "Venice's style_preset names",
    usage: 'imageprompt styles [--json]',
    options: ['json'],
    example: 'npx imageprompt styles',
  },
  models: {
    summary: "Venice's image models: sizing, sizes and price",
    usage: 'imageprompt models [--json]',
    options: ['json'],
    example: 'npx imageprompt models --json',
  },
};

export function overview(): string {
  const width = Math.max(...Object.keys(COMMAND_HELP).map((c) => c.length)) + 2;
  return `Usage: imageprompt <command> [globs…] [options]

Commands:
${Object.entries(COMMAND_HELP)
  .map(([name, help]) => `  ${name.padEnd(width)}${help.summary}`)
  .join('\n')}

Options:
${Object.values(OPTIONS)
  .map((o) => `  ${o}`)
  .join('\n')}
  -h, --help            this text; \`imageprompt <command> --help\` for one command
  -v, --version         the version

Globs default to **/*.imageprompt.json; node_modules, the cache and .gitignore'd paths are skipped.
VENICE_API_KEY and VENICE_BASE_URL are read from the environment.
Exit codes: 0 ok · 1 invalid, failed or missing · 2 usage error · 3 stopped at the spend cap`;
}

export function commandUsage(name: string): string {
  const help = COMMAND_HELP[name]!;
  return `Usage: ${help.usage}

${help.summary[0]!.toUpperCase()}${help.summary.slice(1)}.${help.more ? ` ${help.more}` : ''}

Options:
${help.options.map((o) => `  ${OPTIONS[o]}`).join('\n')}

Example:
  ${help.example}`;
}

/** An unknown command, with the nearest known one. */
export function unknownCommand(name: string): string {
  const suggestion = didYouMean(name, Object.keys(COMMAND_HELP));
  return `imageprompt: "${name}" is not a command${suggestion ? `; did you mean "${suggestion}"?` : ''}\n  → \`imageprompt --help\` lists the commands`;
}

/** parseArgs' refusal of an option, in the command's words: the option, and the nearest known one. */
export function unknownOption(message: string): string {
  const option = /'(-{1,2}[^']+)'/.exec(message)?.[1];
  if (!option) return `imageprompt: ${message}`;
  const suggestion = didYouMean(option.replace(/^-+/, ''), [...Object.keys(OPTIONS), 'help', 'version']);
  return `imageprompt: ${option} is not an option${suggestion ? `; did you mean --${suggestion}?` : ''}\n  → \`imageprompt --help\` lists the options`;
}
