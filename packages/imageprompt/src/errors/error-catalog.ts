/**
 * Every error imageprompt (engine, command and plugin) can end with, in one place: its permanent
 * code, a title, when it happens and what to do. A throw site adds the specifics (the file, the
 * field, what exactly was wrong, the precise fix) as its message and hint; the code says which kind
 * it is. `docs/errors.md` is generated from this file (test/docs.test.ts keeps the two equal).
 */

export interface ErrorKind {
  /** A few words, as a heading. */
  title: string;
  /** When it happens. */
  when: string;
  /** What to do about it, in general (each error's own hint is more precise). */
  fix: string;
  /** Whether nothing was paid for when it happens. */
  paid: 'nothing' | 'maybe';
}

export const ERROR_CATALOG = {
  INVALID_JSON: {
    title: 'A prompt file or config file is not valid JSON',
    when: 'The file does not parse: a trailing comma, a comment, a key written twice. The error names its line and column.',
    fix: 'Correct the JSON at the line and column given; prompt files are plain JSON, without comments.',
    paid: 'nothing',
  },
  INVALID_PROMPT_FILE: {
    title: 'A prompt file asks for something Venice would refuse',
    when: 'A field is unknown, of the wrong type, out of range, or not allowed for the model (checked against the model catalog before any request).',
    fix: 'Change the field the error names; unknown fields get a suggestion when they are near a known one.',
    paid: 'nothing',
  },
  UNREADABLE_PROMPT_FILE: {
    title: 'A prompt file cannot be read',
    when: 'The path does not exist or cannot be opened.',
    fix: 'Check the import path and the file permissions.',
    paid: 'nothing',
  },
  UNKNOWN_MODEL: {
    title: 'The model is not an image model',
    when: "The prompt file (or the defaults) names a model that Venice's catalog does not list as an image model.",
    fix: 'Pick a model from `imageprompt models`; the error suggests the nearest name.',
    paid: 'nothing',
  },
  INVALID_CONFIG: {
    title: 'A setting is wrong',
    when: '`imageprompt.config.json`, a plugin option, an environment variable or a command-line flag has the wrong type, an unknown name or an unsafe value (a key with a line break, a URL with credentials, a credential over plain http, a key variable kept for other secrets, a review directory the command did not write).',
    fix: 'Change the setting the error names; no request was sent.',
    paid: 'nothing',
  },
  MISSING_API_KEY: {
    title: 'An image must be generated and there is no key',
    when: 'A cache miss in a build with no `VENICE_API_KEY` and no wallet (`VENICE_WALLET_PRIVATE_KEY`, `VENICE_SIWX`), or a provider without its key variable.',
    fix: 'Set the key, restore the cache, or choose placeholders on purpose with `IMAGEPROMPT_MODE=placeholder`.',
    paid: 'nothing',
  },
  FROZEN_MISS: {
    title: 'A frozen build found images missing',
    when: 'With `IMAGEPROMPT_MODE=frozen`, prompt files whose images are in no cache. The build fails listing each.',
    fix: 'Fill the cache with `imageprompt generate` (key set), then commit or save it.',
    paid: 'nothing',
  },
  SPEND_CAP: {
    title: 'The spend cap was reached',
    when: 'The next attempt would take what this run was charged over `--max-spend` / `maxSpendUsd`.',
    fix: 'Raise the cap to generate the rest; nothing past the cap was sent.',
    paid: 'maybe',
  },
  VENICE_REJECTED: {
    title: 'Venice (or a provider) refused the request',
    when: 'A 4xx answer: a bad key (401), no credit (402), a model the key may not use (403), a field Venice refused (400), a redirect (which is never followed).',
    fix: "Follow the hint, which depends on the status; Venice's own words are quoted, without escape sequences or any echoed secret.",
    paid: 'nothing',
  },
  WALLET_BALANCE_LOW: {
    title: 'The paying wallet has too little credit on Venice',
    when: 'Paying with `VENICE_WALLET_PRIVATE_KEY` (or `VENICE_SIWX`), Venice answered 402 `insufficient_balance`: the wallet holds less than each request needs. The run stops: nothing more is sent with that wallet.',
    fix: 'Top up the wallet (USDC on Base or Solana, at least the minimum the message gives), then run again; images already made stay cached.',
    paid: 'nothing',
  },
  WALLET_SIGN_IN_USED: {
    title: 'The one pre-signed wallet sign-in was already used',
    when: "`VENICE_SIWX` holds one SIGN-IN-WITH-X value, which Venice accepts once; a second request (another miss, or a retry) would be refused, so it is not sent.",
    fix: 'Set `VENICE_WALLET_PRIVATE_KEY` so that every request is signed afresh, or use an API key; keep `VENICE_SIWX` for runs with one miss.',
    paid: 'nothing',
  },
  VENICE_UNAVAILABLE: {
    title: 'Venice could not be reached or was busy',
    when: 'A connection failure, a 429, 500 or 503 after the retries the policy allows.',
    fix: 'Try again later; check the network and the base URL.',
    paid: 'nothing',
  },
  TIMEOUT: {
    title: 'Venice did not answer in time',
    when: 'An attempt ran past `timeoutMs` after the retries the policy allows.',
    fix: 'Raise `timeoutMs` for large images, or try again later.',
    paid: 'nothing',
  },
  CONTENT_VIOLATION: {
    title: 'Venice flagged the prompt',
    when: 'Venice answered with its content-violation header and no image. Nothing was charged or cached.',
    fix: 'Rephrase the prompt.',
    paid: 'nothing',
  },
  BLURRED: {
    title: 'Venice blurred the image',
    when: 'Safe mode judged the output adult content and blurred it.',
    fix: 'Change the prompt, set `"safe_mode": false`, or accept blurred images with `acceptBlurred: true`.',
    paid: 'maybe',
  },
  BAD_IMAGE: {
    title: 'The image sent back is unusable',
    when: 'Not an image, truncated, of another format or pixel size than asked, past the byte bound for its size, or a JSON answer with the wrong number of images. It is retried, never cached.',
    fix: 'Usually passing; if it persists, the server (or a proxy) is not answering like Venice.',
    paid: 'maybe',
  },
  CACHE_WRITE_FAILED: {
    title: 'The cache directory cannot be written',
    when: 'A full disk, a read-only directory, a permission. Found before paying where possible; a paid image that cannot be stored is kept in a rescue folder and taken from there next time.',
    fix: 'Free space or fix the permissions of the directory named; the next build pays nothing for a rescued image.',
    paid: 'maybe',
  },
  CACHE_LOCKED: {
    title: 'Another process holds a cache lock too long',
    when: 'A wait with a bound (`waitMs`) ran out while another live process generated the same key.',
    fix: 'If no other build runs, delete the lock file named.',
    paid: 'nothing',
  },
  GIT_FAILED: {
    title: 'git could not answer the review',
    when: '`imageprompt review --since <ref>` outside a repository, or with a ref that is not there.',
    fix: 'Run inside the repository and fetch the base branch (actions/checkout with `fetch-depth: 0`).',
    paid: 'nothing',
  },
  UNSUPPORTED_BUNDLER: {
    title: 'The plugin was given to a bundler it has no entry for',
    when: 'unplugin reported a framework other than Vite, Astro, Rollup, Rolldown, webpack, Rspack, esbuild or Farm.',
    fix: 'Import the entry for your bundler: `unplugin-imageprompt/<bundler>`.',
    paid: 'nothing',
  },
  NO_LOADER_CONTEXT: {
    title: 'webpack or Rspack gave no loader context',
    when: 'The prompt module was loaded outside a loader, so its image cannot be emitted.',
    fix: 'Import the prompt file from a module the bundler builds; report it if it happens in an ordinary build.',
    paid: 'nothing',
  },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The catalog as Markdown: `docs/errors.md`. */
export function renderErrorCatalog(): string {
  const lines = [
    '# Errors',
    '',
    '<!-- generated from packages/imageprompt/src/errors/error-catalog.ts by test/docs.test.ts; edit the catalog, then run UPDATE_DOCS=1 npx vitest run test/docs.test.ts -->',
    '',
    'Every error names its file and field where it has them, says what was wrong and, after `→`, what to do.',
    'Its code (on `ImagePromptError.code`) is one of these, and never changes meaning.',
    '',
  ];
  for (const [code, kind] of Object.entries(ERROR_CATALOG) as [ErrorCode, ErrorKind][]) {
    lines.push(`## \`${code}\`: ${kind.title}`, '', `**When.** ${kind.when}`, '', `**What to do.** ${kind.fix}`, '', `**Paid.** ${kind.paid === 'nothing' ? 'nothing was paid for.' : 'an attempt may have been charged (a retry never repeats one that succeeded).'}`, '');
  }
  return lines.join('\n');
}
