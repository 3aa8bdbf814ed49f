/** The `imageprompt` command, run as a child process against the local Venice-compatible server. */
import module from 'node:module';
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { freePort, runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('cli-project');
  // kept under another name in the repo, so that git still tracks the fixture's ignored folder
  await rename(join(root, 'gitignore.txt'), join(root, '.gitignore'));
  sim.script({ clearRequests: true });
  return () => removeFixture(root);
});

const run = (args: string[], withKey = true) =>
  runNode([bin, ...args], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: withKey ? KEY : undefined } });

describe('imageprompt plan', () => {
  it('totals the catalog prices of the misses and spends nothing', async () => {
    const result = await run(['plan', '--json'], false);
    expect(result.code, result.output).toBe(0);
    const plan = JSON.parse(result.output) as { misses: { file: string; priceUsd: number; width: number; height: number }[]; totalUsd: number; priceSource: string };
    // z-image-turbo flat $0.01; gpt-image-2 1K low $0.02 × 2 variants; nano-banana-pro 2K $0.23
    expect(plan.misses.map((m) => [m.file, m.priceUsd])).toEqual([
      ['pages/a.imageprompt.json', 0.01],
      ['pages/b.imageprompt.json', 0.04],
      ['pages/c.imageprompt.json', 0.23],
    ]);
    expect(plan.totalUsd).toBe(0.28);
    expect(plan.priceSource).toBe(`${sim.url}/models?type=image`);
    expect(plan.misses[0]).toMatchObject({ width: 512, height: 512 });
    expect(sim.imageRequests()).toHaveLength(0);
    const text = await run(['plan'], false);
    expect(text.output).toMatch(/3 of 3 prompt files to generate, estimated \$0\.28/);
  });
});

describe('imageprompt check and generate', () => {
  it('check fails on a missing image and passes after generate', async () => {
    const before = await run(['check']);
    expect(before.code).toBe(1);
    expect(before.output).toMatch(/missing {2}pages\/a\.imageprompt\.json {2}\(key [0-9a-f]{64}\)/);
    const generated = await run(['generate']);
    expect(generated.code, generated.output).toBe(0);
    expect(generated.output).toMatch(/\[3\/3\] 0 in flight, 0 failed/);
    expect(generated.output).toMatch(/3 generated, 0 already cached, 0 failed, 0 invalid; spent about \$0\.28 at Venice's prices, but a simulator at 127\.0\.0\.1:\d+ answered, so nothing was paid/);
    expect(sim.imageRequests()).toHaveLength(3);
    const after = await run(['check', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.output)).toMatchObject({ ok: true, files: 3, cached: 3, invalid: [], missing: [] });
    expect((await run(['generate'])).output).toMatch(/0 generated, 3 already cached/);
    expect(sim.imageRequests()).toHaveLength(3);
    expect(generated.output + after.output).not.toContain(KEY);
  });

  it('check remembers what it verified, so the next check only stats; a blob changed since is still found; --verify hashes every byte', async () => {
    expect((await run(['generate'])).code).toBe(0);
    const indexDir = join(root, 'node_modules', '.cache', 'imageprompt');
    const indexes = async () => (await readdir(indexDir).catch(() => [] as string[])).filter((f) => f.startsWith('hit-index-'));
    const before = await indexes();
    expect((await run(['check'])).code).toBe(0);
    // the command's own index file (its settings are not a build's), holding every prompt file
    const made = (await indexes()).filter((f) => !before.includes(f));
    expect(made).toHaveLength(1);
    const recorded = JSON.parse(await readFile(join(indexDir, made[0]!), 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(recorded.files).map((f) => relative(root, f)).sort()).toEqual(['pages/a.imageprompt.json', 'pages/b.imageprompt.json', 'pages/c.imageprompt.json']);
    expect((await run(['check'])).output).toMatch(/all 3 prompt files are valid and cached/);
    // a blob rewritten in place, its modification time put back: the next check does not take it
    // from the index, and neither does --verify
    const blobs = join(root, '.imageprompt', 'blobs');
    const [blob] = await readdir(blobs);
    const path = join(blobs, blob!);
    const info = await stat(path);
    const bytes = await readFile(path);
    bytes[bytes.length - 10]! ^= 0xff;
    await writeFile(path, bytes);
    await utimes(path, info.atime, info.mtime);
    for (const flags of [[], ['--verify']]) {
      const checked = await run(['check', ...flags], false);
      expect(checked.code, checked.output).toBe(1);
      expect(checked.output).toMatch(/missing {2}pages\/\w\.imageprompt\.json/);
    }
  });

  it('check reports an invalid prompt file with its field and exits 1', async () => {
    await writeFile(join(root, 'pages', 'a.imageprompt.json'), '{ "model": "z-image-turbo", "prompt": "x", "widht": 5 }');
    const result = await run(['check']);
    expect(result.code).toBe(1);
    expect(result.output).toContain('pages/a.imageprompt.json, field "widht": is not a field Venice accepts → did you mean "width"?');
  });

  it('--max-spend stops before the call that would cross the cap and names what was left', async () => {
    const result = await run(['generate', '--max-spend', '0.05', '--concurrency', '1']);
    expect(result.code).toBe(3);
    expect(sim.imageRequests()).toHaveLength(2);
    expect(result.output).toMatch(/stopped at the spend cap of \$0\.05; left ungenerated:\n {2}pages\/c\.imageprompt\.json/);
  });

  it("keeps its compiled code in Node's compile cache where it can, and runs the same where it cannot", async () => {
    expect((await run(['generate'])).code).toBe(0);
    const expected = await run(['check']);
    expect(expected.code, expected.output).toBe(0);
    // the bin turns the cache on itself: Node's default place for it is under the temporary folder
    const tmp = join(root, 'tmp');
    await mkdir(tmp);
    const cached = await runNode([bin, 'check'], { cwd: root, env: { VENICE_BASE_URL: sim.url, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined } });
    expect(cached).toEqual(expected);
    const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    const entries = await readdir(join(tmp, 'node-compile-cache')).catch(() => []);
    // Node 22.1 and later keep it; Node 20 has none and the command runs without
    if (hasCompileCache) expect(entries.length).toBeGreaterThan(0);
    else expect(entries).toEqual([]);
    // a temporary folder that cannot hold it (a path under a file): the same answer, and no warning
    const blocked = await runNode([bin, 'check'], { cwd: root, env: { VENICE_BASE_URL: sim.url, TMPDIR: join(root, '.gitignore', 'tmp'), NODE_COMPILE_CACHE: undefined } });
    expect(blocked).toEqual(expected);
  });

  it('generate without a key is a usage error that spends nothing', async () => {
    const result = await run(['generate'], false);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/needs a Venice API key/);
  });
});

describe('imageprompt prune', () => {
  it('removes exactly the entries and blobs no prompt file references', async () => {
    await run(['generate']);
    await writeFile(join(root, 'pages', 'a.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a windmill', width: 512, height: 512 }));
    await run(['generate']);
    const cache = join(root, '.imageprompt');
    // age every file past the grace period that protects blobs another build may be committing
    const old = new Date(Date.now() - 3600_000);
    for (const dir of ['entries', 'blobs']) for (const f of await readdir(join(cache, dir))) await utimes(join(cache, dir, f), old, old);
    const entriesBefore = await readdir(join(cache, 'entries'));
    expect(entriesBefore).toHaveLength(4);

    const dry = await run(['prune', '--dry-run', '--json']);
    const planned = JSON.parse(dry.output) as { removed: string[] };
    expect(planned.removed.filter((r) => r.startsWith('entries/'))).toHaveLength(1);
    expect(planned.removed.filter((r) => r.startsWith('blobs/'))).toHaveLength(1);
    expect(await readdir(join(cache, 'entries'))).toHaveLength(4);

    const pruned = await run(['prune']);
    expect(pruned.code).toBe(0);
    expect(await readdir(join(cache, 'entries'))).toHaveLength(3);
    expect(await readdir(join(cache, 'blobs'))).toHaveLength(4);
    const check = await run(['check']);
    expect(check.code, check.output).toBe(0);
  });
});

describe('imageprompt styles and models', () => {
  it('lists Venice’s styles and image models with sizing and price', async () => {
    const styles = await run(['styles'], false);
    expect(styles.output.split('\n')).toContain('Pixel Art');
    const models = await run(['models'], false);
    expect(models.output).toMatch(/^gpt-image-2 {2}aspect_ratio 1:1 .*; resolution 1K 2K 4K; quality low medium high {2}1K: .*high \$0\.26/m);
    expect(models.output).toMatch(/^z-image-turbo {2}width\/height \(multiple of 8\) {2}\$0\.01$/m);
    // the models and prices of the steps on images
    expect(models.output).toMatch(/^firered-image-edit {2}aspect_ratio auto 1:1 .*; up to 3 images {2}\$0\.04$/m);
    expect(models.output).toMatch(/^\d+ edit models; upscale 2× \$0\.02, 4× \$0\.08; background removal \$0\.03$/m);
  });

  it('answers an unknown command or option with the nearest known one and exit code 2', async () => {
    const paint = await run(['paint']);
    expect(paint.code).toBe(2);
    expect(paint.output).toMatch(/^imageprompt: "paint" is not a command\n  → `imageprompt --help` lists the commands/);
    const typo = await run(['genrate']);
    expect(typo.output).toMatch(/"genrate" is not a command; did you mean "generate"\?/);
    const option = await run(['plan', '--dryrun']);
    expect(option.code).toBe(2);
    expect(option.output).toBe('imageprompt: --dryrun is not an option; did you mean --dry-run?\n  → `imageprompt --help` lists the options\n');
  });

  it('styles falls back to the bundled list offline, and says so', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/api/v1`;
    const offline = await runNode([bin, 'styles'], { cwd: root, env: { VENICE_BASE_URL: dead, VENICE_API_KEY: undefined } });
    expect(offline.code, offline.output).toBe(0);
    expect(offline.output.split('\n')).toContain('Pixel Art');
    expect(offline.output).toMatch(/\d+ styles, from the bundled list of \d{4}-\d{2}-\d{2} \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/image\/styles could not be read: ECONNREFUSED\)/);
  });

  it('says how each command is used, with its options and an example; says its version', async () => {
    for (const args of [['review', '--help'], ['help', 'review']]) {
      const help = await run(args, false);
      expect(help.code).toBe(0);
      expect(help.output).toMatch(/^Usage: imageprompt review \[globs…\] \[--since <git-ref>\]/);
      expect(help.output).toMatch(/Options:\n[\s\S]*--out <dir>[\s\S]*Example:\n  npx imageprompt review --since origin\/main --markdown/);
      expect(help.output).not.toMatch(/--max-spend/);
    }
    const overview = await run(['--help'], false);
    expect(overview.output).toMatch(/^Usage: imageprompt <command>[\s\S]*generate +generate every prompt file missing/);
    for (const flag of ['--version', '-v']) {
      const version = await run([flag], false);
      expect(version.code).toBe(0);
      expect(version.output).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
  });
});
