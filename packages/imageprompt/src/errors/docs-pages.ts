/**
 * The reference pages an error may send a user to. They are the repository's `docs/` folder, copied
 * into the `docs/` folder of the imageprompt and unplugin-imageprompt packages when they are built
 * (`packages/imageprompt/scripts/ship-docs.mjs`), so every page a message names is on the user's disk;
 * test/pack-install.test.ts checks each one in the packed tarballs.
 */
export const DOCS_PAGES = ['prompt-files.md', 'config.md', 'options.md', 'errors.md', 'team-cache.md', 'modes.md', 'review.md', 'command.md'] as const;
export type DocsPage = (typeof DOCS_PAGES)[number];

/** "see docs/<page> …": where to read more, in words that hold in the repository and in node_modules. */
export function seeDocs(page: DocsPage): string {
  return `see docs/${page} (in the imageprompt package)`;
}
