/**
 * What a user gets from the registry: the packages as `npm pack` makes them, installed into fresh
 * projects outside the workspace, then a Vite build, an Astro build and the `imageprompt` command
 * run there against the local Venice-compatible server; and the oldest Node the packages claim
 * (`engines`), from the registry's `node` package, running the command and a Vite build.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { REPO_DIR, TEST_DIR, filesContaining, listFiles, secretKey, startSim } from './helpers/fixtures.js';
import { runNode } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let work: string;
const tarballs: string[] = [];

const workspaceVersion = async (pkg: string) => (JSON.parse(await readFile(join(REPO_DIR, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const manifestOf = async (dir: string) =>
  JSON.parse(await readFile(join(REPO_DIR, 'packages', dir, 'package.json'), 'utf8')) as { engines: { node: string }; peerDependencies: Record<string, string> };
/** The lowest version a `>=x.y.z` peer range of the plugin admits. */
async function oldestPeer(name: string): Promise<string> {
  const range = (await manifestOf('unplugin-imageprompt')).peerDependencies[name]!;
  const lowest = /^>=(\d+\.\d+\.\d+)$/.exec(range)?.[1];
  expect(lowest, `${name} peer range ${range} names one lowest version`).toBeDefined();
  return lowest!;
}

/** npm, run from the test's own Node (22, from the root devDependencies) with the registry set up as usual. */
function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
}

async function project(name: string, deps: Record<string, string>, source: string): Promise<string> {
  const dir = join(work, name);
  await cp(source, dir, { recursive: true });
  const dependencies = Object.fromEntries([...tarballs.map((t) => [t.includes('unplugin') ? 'unplugin-imageprompt' : 'imageprompt', `file:${t}`]), ...Object.entries(deps)]);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies }, null, 2));
  npm(['install', '--prefer-offline', '--no-package-lock'], dir);
  return dir;
}

beforeAll(async () => {
  sim = await startSim(KEY);
  work = await mkdtemp(join(tmpdir(), 'imageprompt-pack-'));
  for (const pkg of ['imageprompt', 'unplugin-imageprompt']) {
    const name = npm(['pack', '--pack-destination', work], join(REPO_DIR, 'packages', pkg)).trim().split('\n').pop()!;
    tarballs.push(join(work, name));
  }
}, 240_000);
afterAll(async () => {
  await sim.close();
  await rm(work, { recursive: true, force: true });
});

const env = () => ({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url });

describe('installed from packed tarballs, outside the workspace', () => {
  it('holds every page its error messages and READMEs name', async () => {
    for (const tarball of tarballs) {
      const dir = join(work, `unpacked-${basename(tarball, '.tgz')}`);
      await mkdir(dir, { recursive: true });
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      const root = join(dir, 'package');
      const files = await listFiles(root);
      // the bundles (and the command's bin) ship, not tsc's output module by module, which nothing loads
      const modules = files.filter((f) => f.endsWith('.js')).map((f) => relative(root, f));
      expect(modules.filter((f) => !/^dist\/(bundle\/[\w-]+|cli\/(bin|imageprompt))\.js$/.test(f)), basename(tarball)).toEqual([]);
      expect(modules.length, basename(tarball)).toBeGreaterThan(2);
      // every file its package.json sends a user to (exports, their types, the bin) is in the tarball
      const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { exports: unknown; bin?: Record<string, string> };
      const targets = (value: unknown): string[] => (typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
      const entries = [...targets(manifest.exports), ...Object.values(manifest.bin ?? {})];
      expect(entries.length, basename(tarball)).toBeGreaterThan(2);
      expect(entries.filter((entry) => !files.includes(join(root, entry))), basename(tarball)).toEqual([]);
      const missing: string[] = [];
      const named = (from: string, page: string) => {
        if (!files.includes(join(root, page))) missing.push(`${relative(root, from)} names ${page}`);
      };
      // a message's "see docs/…" (written out in the code, or made by seeDocs from its list of pages)
      for (const file of files.filter((f) => f.endsWith('.js'))) {
        for (const [, page] of (await readFile(file, 'utf8')).matchAll(/\bdocs\/([\w-]+\.md)/g)) named(file, `docs/${page}`);
      }
      // seeDocs's list of pages, from the build the tarball was packed from (the package ships bundles only)
      const pages = join(REPO_DIR, 'packages', 'imageprompt', 'dist', 'errors', 'docs-pages.js');
      if (tarball.includes('unplugin')) expect(files.some((f) => f.endsWith('.md') && f.includes('/docs/'))).toBe(true);
      else {
        const { DOCS_PAGES } = (await import(pathToFileURL(pages).href)) as { DOCS_PAGES: string[] };
        expect(DOCS_PAGES.length).toBeGreaterThan(0);
        for (const page of DOCS_PAGES) named(pages, `docs/${page}`);
      }
      // relative links of the README and the shipped pages
      for (const file of files.filter((f) => f.endsWith('.md'))) {
        for (const [, target] of (await readFile(file, 'utf8')).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
          if (/^[a-z]+:/.test(target!) || target!.startsWith('$')) continue;
          named(file, relative(root, join(dirname(file), target!)));
        }
      }
      expect(missing, basename(tarball)).toEqual([]);
    }
  });

  it('the command ships as one file: what it bundles has its licence beside it, what it imports is a dependency', async () => {
    const tarball = tarballs.find((t) => !t.includes('unplugin'))!;
    const dir = join(work, 'unpacked-command');
    await mkdir(dir, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    const root = join(dir, 'package');
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
    expect(manifest.bin.imageprompt).toBe('./dist/cli/bin.js');
    const bundle = await readFile(join(root, 'dist', 'cli', 'imageprompt.js'), 'utf8');
    // esbuild names each bundled file in a comment: the packages inside the bundle
    const bundled = new Set([...bundle.matchAll(/^\/\/ (?:\.\.\/)*node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]!));
    expect([...bundled]).toEqual(expect.arrayContaining(['zod', 'fast-glob']));
    const licences = await readFile(join(root, 'dist', 'cli', 'imageprompt.js.LICENSES.md'), 'utf8');
    for (const name of bundled) expect(licences, name).toMatch(new RegExp(`^## ${name.replace('/', '\\/')} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
    // what the bundle still imports: Node's own modules, or a package the manifest depends on
    const imported = new Set([...bundle.matchAll(/(?:^import .* from |\bimport\()"([^"./][^"]*)"/gm)].map((m) => m[1]!));
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const strays = [...imported].filter((s) => !s.startsWith('node:') && !manifest.dependencies[packageOf(s)]);
    expect(strays).toEqual([]);
    expect([...imported].map(packageOf)).toEqual(expect.arrayContaining(['sharp', 'viem']));
  });

  it('a Vite project builds, and the imageprompt bin runs from node_modules/.bin', async () => {
    const dir = await project('vite-user', { vite: await workspaceVersion('vite') }, join(TEST_DIR, 'fixtures', 'vite-app'));
    await writeFile(join(dir, 'vite.config.js'), "import imageprompt from 'unplugin-imageprompt/vite';\nexport default { plugins: [imageprompt()], build: { assetsInlineLimit: 0 } };\n");
    const build = await runNode([join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    expect(build.output).toMatch(/\[imageprompt\] \d+ images: 0 cached, \d+ generated, 0 failed/);
    expect((await listFiles(join(dir, 'dist', 'assets'))).filter((f) => /\.(webp|png|jpg)$/.test(f)).length).toBeGreaterThanOrEqual(4);
    // the bin as npm linked it for this project
    const check = await runNode([join(dir, 'node_modules', '.bin', 'imageprompt'), 'check'], { cwd: dir, env: env() });
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/all \d+ prompt files are valid and cached/);
    expect(await filesContaining(dir, KEY)).toEqual([]);
  });

  it('an Astro project builds with the integration', async () => {
    const dir = await project('astro-user', { astro: await workspaceVersion('astro') }, join(TEST_DIR, 'fixtures', 'astro-site'));
    const build = await runNode([join(dir, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    expect(build.output).toMatch(/\[imageprompt\] \d+ images?: 0 cached, 2 generated, 0 failed/);
    expect(await readFile(join(dir, 'dist', 'index.html'), 'utf8')).toMatch(/\/_astro\//);
  });

  it('the oldest Node the packages claim runs the command and a Vite build', async () => {
    const claims = [(await manifestOf('imageprompt')).engines.node, (await manifestOf('unplugin-imageprompt')).engines.node];
    const oldest = /^>=(\d+\.\d+\.\d+)$/.exec(claims[0]!)?.[1];
    expect(oldest, 'engines name one lowest version').toBeDefined();
    expect(new Set(claims)).toEqual(new Set([`>=${oldest}`]));
    const dir = await project('oldest-node', { vite: await workspaceVersion('vite') }, join(TEST_DIR, 'fixtures', 'vite-app'));
    await writeFile(join(dir, 'vite.config.js'), "import imageprompt from 'unplugin-imageprompt/vite';\nexport default { plugins: [imageprompt()] };\n");
    const runtime = join(work, 'runtime');
    await mkdir(runtime, { recursive: true });
    await writeFile(join(runtime, 'package.json'), '{ "private": true }');
    npm(['install', '--prefer-offline', '--no-package-lock', `node@${oldest}`], runtime);
    const old = join(runtime, 'node_modules', 'node', 'bin', 'node');
    expect(execFileSync(old, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${oldest}`);
    // spawned, not run synchronously: the local server answering the build lives in this process
    const run = (args: string[]) => runNode(args, { cwd: dir, env: env(), node: old });
    const build = await run([join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), 'build']);
    expect(build.code, build.output).toBe(0);
    const check = await run([join(dir, 'node_modules', 'imageprompt', 'dist', 'cli', 'bin.js'), 'check']);
    expect(check.code, check.output).toBe(0);
  });

  it('the oldest Vite the peer range admits builds, with the images at base-relative URLs', async () => {
    const dir = await project('oldest-vite', { vite: await oldestPeer('vite') }, join(TEST_DIR, 'fixtures', 'vite-app'));
    await writeFile(join(dir, 'vite.config.js'), "import imageprompt from 'unplugin-imageprompt/vite';\nexport default { plugins: [imageprompt()], build: { assetsInlineLimit: 0 } };\n");
    const build = await runNode([join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const script = (await listFiles(join(dir, 'dist', 'assets'))).find((f) => f.endsWith('.js'))!;
    expect(await readFile(script, 'utf8')).toMatch(/src:"\/assets\/hero-[\w-]+\.webp"/);
  });

  it('the oldest Astro the peer range admits builds <Image> from a prompt file', async () => {
    const version = await oldestPeer('astro');
    const dir = await project('oldest-astro', { astro: version }, join(TEST_DIR, 'fixtures', 'astro-site'));
    const bin = JSON.parse(await readFile(join(dir, 'node_modules', 'astro', 'package.json'), 'utf8')) as { bin: { astro: string } };
    const build = await runNode([join(dir, 'node_modules', 'astro', bin.bin.astro), 'build'], { cwd: dir, env: env() });
    expect(build.code, build.output).toBe(0);
    const html = await readFile(join(dir, 'dist', 'index.html'), 'utf8');
    expect(html).toMatch(/<img id="original" src="\/_astro\/hero\.[\w-]+\.webp"/);
    expect(html).toMatch(/<img src="\/_astro\/hero\.[\w-]+\.webp"[^>]* id="optimised"/);
  });

  it('the oldest Rollup, Rolldown, webpack, Rspack, esbuild and Farm the peer ranges admit build with only the plugin', async () => {
    const bundlers = { rollup: 'rollup', rolldown: 'rolldown', webpack: 'webpack', rspack: '@rspack/core', esbuild: 'esbuild', farm: '@farmfe/core' };
    const versions = Object.fromEntries(await Promise.all(Object.values(bundlers).map(async (pkg) => [pkg, await oldestPeer(pkg)] as const)));
    const dir = await project('oldest-bundlers', versions, join(TEST_DIR, 'fixtures', 'bundler-app'));
    for (const bundler of Object.keys(bundlers)) {
      const build = await runNode([join(dir, 'build.mjs'), bundler], { cwd: dir, env: env() });
      expect(build.code, `${bundler}: ${build.output}`).toBe(0);
      const images = (await listFiles(join(dir, `dist-${bundler}`))).map((f) => f.slice(dir.length + 1));
      // hero and twin hold the same bytes: Rollup and Rolldown emit them once (under the name of the
      // one they met first, in Rolldown 1.0), webpack, esbuild and Farm once per prompt file
      const lighthouse = images.filter((f) => /(^|\/)(hero|twin)[-.][\w-]+\.webp$/.test(f));
      expect(lighthouse.length, `${bundler}: ${images.join(', ')}`).toBe(bundler === 'rollup' || bundler === 'rolldown' ? 1 : 2);
      expect(images.filter((f) => /(^|\/)pears-[12][-.][\w-]+\.png$/.test(f)), `${bundler}: ${images.join(', ')}`).toHaveLength(2);
    }
  });
});
