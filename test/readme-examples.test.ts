/**
 * Every TypeScript, JavaScript, TSX and Astro example in the READMEs and docs/ pages compiles: the code blocks are
 * extracted as they are written and checked with `tsc` on the stock strict settings of a Vite
 * project, and with `astro check` in an Astro project with the integration, so they cannot drift.
 */
import { readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR, TEST_DIR, copyFixture, copyProject, removeFixture } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

interface Example {
  readme: string;
  line: number;
  lang: string;
  code: string;
}

const DOCS = readdirSync(join(REPO_DIR, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const READMES = ['README.md', ...DOCS, 'packages/unplugin-imageprompt/README.md', 'packages/imageprompt/README.md'];
const CHECKED = new Set(['ts', 'tsx', 'js', 'astro']);

async function examples(): Promise<Example[]> {
  const found: Example[] = [];
  for (const readme of READMES) {
    const lines = (await readFile(join(REPO_DIR, readme), 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\w+)\s*$/.exec(lines[i]!);
      if (!open) continue;
      const end = lines.indexOf('```', i + 1);
      if (CHECKED.has(open[1]!)) found.push({ readme, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return found;
}

const fileName = (example: Example, index: number) => {
  const stem = `${example.readme.replace(/[/.]/g, '-')}-line-${example.line}-${index}`;
  return example.lang === 'js' ? `${stem}.mjs` : `${stem}.${example.lang}`;
};

let all: Example[];
let astroDir: string;
let tsDir: string;

beforeAll(async () => {
  all = await examples();
  astroDir = await copyFixture('astro-site');
  tsDir = await copyProject(join(TEST_DIR, 'fixtures', 'vite-types'), 'readme-ts');
});
afterAll(async () => {
  await removeFixture(astroDir);
  await removeFixture(tsDir);
});

describe('README examples', () => {
  it('finds the examples it checks', () => {
    expect(all.filter((e) => e.lang === 'astro').length).toBeGreaterThanOrEqual(2);
    expect(all.filter((e) => e.lang !== 'astro').length).toBeGreaterThanOrEqual(10);
  });

  it('compile under tsc with the stock strict settings of a Vite project', async () => {
    const folder = join(tsDir, 'readme-examples');
    await mkdir(folder, { recursive: true });
    const files: string[] = [];
    for (const [index, example] of all.entries()) {
      if (example.lang === 'astro') continue;
      // each example is a module of its own, as it would be in a project
      const code = /^\s*(import|export)\s/m.test(example.code) ? example.code : `${example.code}\nexport {};`;
      const name = fileName(example, index);
      await writeFile(join(folder, name), `${code}\n`);
      files.push(name);
    }
    await writeFile(
      join(folder, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node', 'vite/client'],
          strict: true,
          noEmit: true,
          resolveJsonModule: true,
          isolatedModules: true,
          allowJs: true,
          checkJs: true,
          skipLibCheck: true,
          jsx: 'react-jsx',
        },
        files,
      }),
    );
    const result = await runNode([binOf('typescript', 'bin/tsc'), '-p', folder], { cwd: folder });
    expect(result.code, result.output).toBe(0);
  }, 120_000);

  it('pass astro check in an Astro project with the integration', async () => {
    const pages = join(astroDir, 'src', 'pages', 'readme');
    await mkdir(pages, { recursive: true });
    for (const [index, example] of all.entries()) {
      if (example.lang === 'astro') await writeFile(join(pages, fileName(example, index)), `${example.code}\n`);
    }
    const result = await runNode([binOf('astro', 'bin/astro.mjs'), 'check'], { cwd: astroDir, env: { VENICE_API_KEY: undefined } });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/0 errors/);
  }, 180_000);
});
