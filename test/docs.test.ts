/**
 * The reference pages that are generated stay equal to what they are generated from: `docs/errors.md`
 * from the error catalog, `docs/options.md` from the options' JSDoc (`@default` included). Run with
 * UPDATE_DOCS=1 to write them anew. Every relative link in the README and the docs leads to a file.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { renderErrorCatalog } from 'imageprompt';
import { REPO_DIR } from './helpers/fixtures.js';

interface Documented {
  name: string;
  type: string;
  doc: string;
  defaultValue: string | undefined;
}

/** The members of an exported interface, with their JSDoc and `@default`. */
function membersOf(file: string, name: string, text: string): Documented[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Documented[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== name) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !member.name) continue;
      const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
      const doc = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join(' ').replace(/\s+/g, ' ').trim();
      const tag = docs.flatMap((d) => [...(d.tags ?? [])]).find((t) => t.tagName.text === 'default');
      found.push({
        name: member.name.getText(source),
        type: member.type ? member.type.getText(source).replace(/\s+/g, ' ') : 'unknown',
        doc,
        defaultValue: tag ? (ts.getTextOfJSDocComment(tag.comment) ?? '').replace(/\s+/g, ' ').trim() : undefined,
      });
    }
  });
  return found;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

async function renderOptions(): Promise<string> {
  const enginePath = 'packages/imageprompt/src/config/engine-options.ts';
  const pluginPath = 'packages/unplugin-imageprompt/src/core/options.ts';
  const engine = membersOf(enginePath, 'EngineOptions', await readFile(join(REPO_DIR, enginePath), 'utf8')).filter((m) => m.name !== 'context');
  const plugin = membersOf(pluginPath, 'Options', await readFile(join(REPO_DIR, pluginPath), 'utf8'));
  const rows = (members: Documented[]) =>
    members.map((m) => `| \`${m.name}\` | \`${cell(m.type)}\` | ${m.defaultValue ? `\`${cell(m.defaultValue)}\`` : '—'} | ${cell(m.doc)} |`);
  return [
    '# Options',
    '',
    `<!-- generated from the JSDoc of ${enginePath} and ${pluginPath} by test/docs.test.ts; run UPDATE_DOCS=1 npx vitest run test/docs.test.ts after changing them -->`,
    '',
    'Every option of the plugin (all bundlers) and of the engine. The same names go in `imageprompt.config.json`, except',
    '`apiKey`, `siwx`, `baseURL`, `logger`, `placeholderDir` and `root`, which are for code or the environment only. An unknown',
    'option is an error with a suggestion; options given in code win over the file.',
    '',
    '| option | type | default | what it does |',
    '| --- | --- | --- | --- |',
    ...rows(plugin.filter((m) => m.name !== 'root')),
    ...rows(engine),
    '',
  ].join('\n');
}

async function check(path: string, generated: string): Promise<void> {
  const file = join(REPO_DIR, path);
  if (process.env.UPDATE_DOCS) await writeFile(file, generated);
  expect(existsSync(file), `${path} exists (UPDATE_DOCS=1 writes it)`).toBe(true);
  expect(await readFile(file, 'utf8'), `${path} is what its source generates; run UPDATE_DOCS=1 npx vitest run test/docs.test.ts`).toBe(generated);
}

describe('generated reference pages', () => {
  it('docs/errors.md is the error catalog', () => check('docs/errors.md', renderErrorCatalog()));
  it('docs/options.md is the options with their JSDoc and defaults', async () => check('docs/options.md', await renderOptions()));
});

describe('links', () => {
  it('every relative link in the README and the docs leads to a file that exists', async () => {
    const pages = ['README.md', ...(await readdir(join(REPO_DIR, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const broken: string[] = [];
    for (const page of pages) {
      const text = await readFile(join(REPO_DIR, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)\s]+)\)/g)) {
        const path = target!.split('#')[0]!;
        if (path && !existsSync(join(REPO_DIR, dirname(page), path))) broken.push(`${page} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
