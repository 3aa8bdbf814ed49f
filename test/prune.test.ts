/**
 * `imageprompt prune` removes only what no prompt file in the project references under the keys
 * the build computes: not what a glob leaves out, not what .gitignore hides from the command but a
 * bundler imports, not what a build keyed with defaults given only to the plugin. Real Vite builds
 * against the local Venice-compatible server, and the real command as a child process.
 */
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { silentLogger } from 'imageprompt';
import { copyFixture, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const bin = commandOf('imageprompt');
let sim: VeniceSim;
let root: string;

beforeAll(async () => {
  sim = await startSim(KEY);
});
afterAll(() => sim.close());
beforeEach(async () => {
  root = await copyFixture('slow-site');
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  // p4 lives in a folder .gitignore hides from people, which the bundler imports all the same
  await mkdir(join(root, 'src', 'generated'));
  await rename(join(root, 'src', 'p4.imageprompt.json'), join(root, 'src', 'generated', 'p4.imageprompt.json'));
  await writeFile(join(root, 'src', 'main.js'), (await readFile(join(root, 'src', 'main.js'), 'utf8')).replace('./p4.', './generated/p4.'));
  await writeFile(join(root, '.gitignore'), 'src/generated/\ndist/\n');
  // defaults that change every key, where the build and the command both read them
  await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ defaults: { format: 'png' } }));
  return () => removeFixture(root);
});

/** A build under the project's defaults (in imageprompt.config.json, which change every key). */
const viteBuild = () =>
  build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger: silentLogger })],
    build: { outDir: 'dist', emptyOutDir: true },
  });

const prune = (...args: string[]) => runNode([bin, 'prune', ...args], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined } });

/** Ages every cache file past the grace that protects files a running build may be writing. */
async function ageCache(): Promise<void> {
  const old = new Date(Date.now() - 3600_000);
  for (const file of await listFiles(join(root, '.imageprompt'))) await utimes(file, old, old);
}

describe('prune keeps what the next build uses', () => {
  it('with a glob, with an ignored folder and with project defaults, the next build makes no request', async () => {
    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(4);
    await ageCache();

    for (const args of [['src/p1*'], ['**/p2.imageprompt.json', '--dry-run'], []]) {
      const result = await prune(...args);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toMatch(/^0 files (would be )?removed/m);
    }
    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(4);
  });

  it('removes an entry once its prompt file changed and a build moved on, and dry-run lists exactly what a real run removes', async () => {
    await viteBuild();
    await writeFile(join(root, 'src', 'generated', 'p4.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'picture number 4, changed', width: 256, height: 256 }));
    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(5);
    await ageCache();

    const dry = await prune('--dry-run', '--json');
    const planned = (JSON.parse(dry.output) as { removed: string[] }).removed.sort();
    // the old entry, its blob and nothing else
    expect(planned.filter((f) => f.startsWith('entries/'))).toHaveLength(1);
    expect(planned.filter((f) => f.startsWith('blobs/'))).toHaveLength(1);
    expect(planned).toHaveLength(2);
    const before = new Set(await listFiles(join(root, '.imageprompt')));
    const real = await prune('--json');
    expect((JSON.parse(real.output) as { removed: string[] }).removed.sort()).toEqual(planned);
    const gone = [...before].filter((f) => !new Set(planned.map((p) => join(root, '.imageprompt', p))).has(f));
    expect((await listFiles(join(root, '.imageprompt'))).sort()).toEqual(gone.sort());

    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(5);
  });

  it('reports and skips what does not belong in the cache instead of crashing', async () => {
    await viteBuild();
    const cache = join(root, '.imageprompt');
    await mkdir(join(cache, 'blobs', 'nested'));
    await writeFile(join(cache, 'blobs', 'README.txt'), 'notes');
    await writeFile(join(cache, 'entries', 'notes.md'), 'notes');
    await mkdir(join(cache, 'backup'));
    await ageCache();
    const result = await prune();
    expect(result.code, result.output).toBe(0);
    for (const file of ['blobs/nested', 'blobs/README.txt', 'entries/notes.md', 'backup']) expect(result.output).toContain(`skipped  ${file} (`);
    expect(await readdir(join(cache, 'blobs'))).toContain('README.txt');
    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(4);
  });

  it('says what it kept for now: young blobs and temporary files a running build may be writing', async () => {
    await viteBuild();
    await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'picture number 1, changed', width: 256, height: 256 }));
    await viteBuild();
    const result = await prune();
    expect(result.output).toMatch(/^kept {2}blobs\/[0-9a-f]{64}\.png \(written \d+ s ago: a running build may be committing it\)$/m);
    expect(result.output).toMatch(/^removed {2}entries\/[0-9a-f]{64}\.json$/m);
    expect(result.output).toMatch(/1 file removed, 1 kept for now, 0 skipped/);
  });

  it("removes responsive derivatives of images no longer cached, keeps the current ones, and the next build encodes nothing", async () => {
    const p1 = join(root, 'src', 'p1.imageprompt.json');
    const responsive = { widths: [64, 128], formats: ['webp'] };
    await writeFile(p1, JSON.stringify({ model: 'z-image-turbo', prompt: 'picture number 1', width: 256, height: 256, responsive }));
    await viteBuild();
    const derivatives = join(root, 'node_modules', '.cache', 'imageprompt', 'derivatives');
    const before = (await readdir(derivatives)).sort();
    expect(before).toHaveLength(2);
    // the prompt changes: the old image's derivatives are left behind by the new build
    await writeFile(p1, JSON.stringify({ model: 'z-image-turbo', prompt: 'picture number 1, changed', width: 256, height: 256, responsive }));
    await viteBuild();
    const current = (await readdir(derivatives)).filter((f) => !before.includes(f)).sort();
    expect(current).toHaveLength(2);
    await ageCache();
    const old = new Date(Date.now() - 3600_000);
    for (const file of await readdir(derivatives)) await utimes(join(derivatives, file), old, old);
    const dry = await prune('--dry-run');
    for (const file of before) expect(dry.output).toContain(`would remove  node_modules/.cache/imageprompt/derivatives/${file}`);
    const result = await prune();
    expect(result.code, result.output).toBe(0);
    expect((await readdir(derivatives)).sort()).toEqual(current);
    const stamps = await Promise.all(current.map(async (f) => (await stat(join(derivatives, f))).mtimeMs));
    await viteBuild();
    expect(await Promise.all(current.map(async (f) => (await stat(join(derivatives, f))).mtimeMs))).toEqual(stamps);
  });
});
