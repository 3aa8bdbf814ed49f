/**
 * A cold fill split across CI runners: `imageprompt generate --shard k/n` takes the misses whose
 * request key falls in shard k, every runner agreeing without talking; each uploads to the shared
 * cache as it goes; then the build job, with Venice unreachable, restores every image and pays
 * nothing. Run here as four processes against the local Venice-compatible server and a real S3
 * server (s3rver), in the order a CI matrix runs them; and two overlapping fills against Apache
 * httpd's WebDAV, which honours conditional creates, paying once for each image; then a fill and a
 * push whose conditional creates the store did but answered with a 500 (a fault proxy in front).
 */
import { randomBytes } from 'node:crypto';
import { cp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, freePort, runNode, commandOf } from './helpers/processes.js';
import { hasApache, startApacheDav, startFaultProxy, startS3, type RunningStore } from './helpers/remote-servers.js';

const KEY = secretKey();
const CLI = commandOf('imageprompt');
const N = 12;
let sim: VeniceSim;
let s3: RunningStore;
let project: string;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
  s3 = await startS3('shards');
  project = await copyFixture('slow-site');
  dirs.push(project);
  const imports: string[] = [];
  for (let i = 1; i <= N; i++) {
    await writeFile(join(project, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `sharded picture ${i}`, width: 256, height: 256 }));
    imports.push(`import p${i} from './p${i}.imageprompt.json?imageprompt';`);
  }
  await writeFile(join(project, 'src', 'main.js'), `${imports.join('\n')}\nglobalThis.__imageprompt = [${Array.from({ length: N }, (_, i) => `p${i + 1}`).join(', ')}];\n`);
});
afterAll(async () => {
  await sim.close();
  await s3.close();
  await Promise.all(dirs.map(removeFixture));
});

/** A fresh checkout of the project on a runner of its own: no cache. */
async function runner(): Promise<string> {
  const dir = join(project, '..', `runner-${randomBytes(4).toString('hex')}`);
  await cp(project, dir, { recursive: true, filter: (path) => !/\/(\.imageprompt|node_modules|dist)(\/|$)/.test(path.slice(project.length)) });
  dirs.push(dir);
  return dir;
}

const remote = `s3://shards/site-${randomBytes(4).toString('hex')}`;
const writer = () => ({ VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_REMOTE: remote, IMAGEPROMPT_REMOTE_MODE: 'write', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'not-checked-by-s3rver', AWS_ENDPOINT_URL_S3: s3.url, CI: '1' });

describe('a cold fill sharded across four runners', () => {
  it('plan shows each shard’s count and price, and they add up to the whole', async () => {
    const planned = await runNode([CLI, 'plan', '--shard', '1/4', '--json'], { cwd: project, env: { VENICE_BASE_URL: sim.url } });
    expect(planned.code, planned.output).toBe(0);
    const plan = JSON.parse(planned.output) as { shard: string; shards: { shard: string; misses: number; totalUsd: number }[]; misses: unknown[] };
    expect(plan.shard).toBe('1/4');
    expect(plan.shards.map((s) => s.shard)).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(plan.shards.reduce((sum, s) => sum + s.misses, 0)).toBe(N);
    expect(plan.misses).toHaveLength(plan.shards[0]!.misses);
    const text = await runNode([CLI, 'plan', '--shard', '2/4'], { cwd: project, env: { VENICE_BASE_URL: sim.url } });
    expect(text.output).toMatch(/^shard 1\/4: \d+ to generate, estimated \$[\d.]+$/m);
    expect(text.output).toMatch(/of \d+ prompt files to generate \(shard 2\/4\)/);
  });

  it('four shard processes pay once for every image, and a build with Venice unreachable restores them all', async () => {
    const shards = await Promise.all(
      [1, 2, 3, 4].map(async (k) => {
        const dir = await runner();
        // one through the environment, as a CI matrix may set it
        const args = k === 3 ? ['generate'] : ['generate', '--shard', `${k}/4`];
        return runNode([CLI, ...args], { cwd: dir, env: { ...writer(), ...(k === 3 ? { IMAGEPROMPT_SHARD: '3/4' } : {}) } });
      }),
    );
    const counts = shards.map((result, i) => {
      expect(result.code, result.output).toBe(0);
      const match = new RegExp(`shard ${i + 1}/4: (\\d+) of the ${N} misses are this shard's`).exec(result.output);
      expect(match, result.output).not.toBeNull();
      return Number(match![1]);
    });
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N);
    // every image paid for exactly once across the four runners
    const prompts = sim.imageRequests().map((r) => (r.body as { prompt: string }).prompt);
    expect(prompts).toHaveLength(N);
    expect(new Set(prompts).size).toBe(N);

    // the build job: Venice unreachable, the shared cache read-only; nothing is paid
    const build = await runner();
    const dead = `http://127.0.0.1:${await freePort()}/api/v1`;
    const built = await runNode([binOf('vite', 'bin/vite.js'), 'build'], { cwd: build, env: { VENICE_API_KEY: undefined, VENICE_BASE_URL: dead, IMAGEPROMPT_REMOTE: remote, AWS_ENDPOINT_URL_S3: s3.url, IMAGEPROMPT_MODE: 'frozen' } });
    expect(built.code, `${built.output}\n${shards.map((r) => r.output).join('\n----\n')}`).toBe(0);
    expect(built.output).toMatch(new RegExp(`${N} images: ${N} cached \\(${N} restored from the shared cache\\), 0 generated, 0 failed`));
    expect(sim.imageRequests()).toHaveLength(N);

    // a shard run again (a retried job) finds its images in the shared cache and pays nothing
    const again = await runNode([CLI, 'generate', '--shard', '2/4'], { cwd: await runner(), env: writer() });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/0 generated/);
    expect(sim.imageRequests()).toHaveLength(N);
  });

  it('refuses a shard that is not one of n', async () => {
    for (const shard of ['5/4', '0/4', 'two', '1/0']) {
      const refused = await runNode([CLI, 'generate', '--shard', shard], { cwd: project, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('--shard needs <index>/<count>');
    }
    expect(sim.imageRequests()).toHaveLength(N);
  });
});

/** Makes `<folder>/` and `<folder>/<inner>/` on a WebDAV store, as any client makes one (MKCOL). */
async function makeFolders(store: string, folder: string, inner: string): Promise<void> {
  for (const path of [`${folder}/`, `${folder}/${inner}/`]) expect((await fetch(`${store}/${path}`, { method: 'MKCOL' })).status).toBe(201);
}

describe('overlapping fills against a store that honours conditional creates (Apache mod_dav)', () => {
  it.skipIf(!hasApache && !process.env.CI)('two runners filling the same keys at once pay once for each', async () => {
    const apache = await startApacheDav();
    try {
      const shared = `${apache.url}/overlap-${randomBytes(4).toString('hex')}`;
      const env = { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_REMOTE: shared, IMAGEPROMPT_REMOTE_MODE: 'write', IMAGEPROMPT_REMOTE_TOKEN: 'team-token', CI: '1' };
      // new requests, so that nothing is in the shared cache yet
      const [one, two] = [await runner(), await runner()];
      for (const dir of [one, two]) {
        for (let i = 1; i <= N; i++) await writeFile(join(dir, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `overlapping picture ${i}`, width: 256, height: 256 }));
      }
      const before = sim.imageRequests().length;
      // Venice holds its answers while both runners are mid-fill: whichever leased a key calls for
      // it, the other waits for its upload; what each call is for, the final count says
      sim.script({ hold: true });
      const runs = [one, two].map((dir) => runNode([CLI, 'generate', '--concurrency', '4'], { cwd: dir, env }));
      for (let i = 0; i < 600 && sim.heldRequests() < 4; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(sim.heldRequests()).toBeGreaterThanOrEqual(4);
      const leases = async () => (await readdir(join(apache.dir, shared.split('/').pop()!, 'leases')).catch(() => [] as string[])).length;
      expect(await leases()).toBeGreaterThanOrEqual(4);
      sim.script({ release: true });
      for (const result of await Promise.all(runs)) expect(result.code, result.output).toBe(0);
      const prompts = sim.imageRequests().slice(before).map((r) => (r.body as { prompt: string }).prompt);
      expect(new Set(prompts).size).toBe(N);
      expect(prompts, (await Promise.all(runs)).map((r) => r.output).join('\n----\n')).toHaveLength(N);
    } finally {
      sim.script({ release: true });
      await apache.close();
    }
  });

  it.skipIf(!hasApache && !process.env.CI)('a create the store did but answered with a 500 is tried again, and the run takes the lease it made', async () => {
    const apache = await startApacheDav();
    const proxy = await startFaultProxy(apache.url);
    try {
      const folder = `lost-${randomBytes(4).toString('hex')}`;
      const env = { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_REMOTE: `${proxy.url}/${folder}`, IMAGEPROMPT_REMOTE_MODE: 'write', IMAGEPROMPT_REMOTE_TOKEN: 'team-token', CI: '1' };
      const dir = await runner();
      for (let i = 1; i <= N; i++) await writeFile(join(dir, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `lost answer picture ${i}`, width: 256, height: 256 }));
      // the probe of conditional creates, then a lease: each written by Apache, each answered 500;
      // the retry is told 412 (present), which is this run's own earlier write. The folder is there
      // already (made as any client makes one), so that the first PUT is written, not refused for a
      // missing folder
      await makeFolders(apache.url, folder, 'leases');
      proxy.faults.push(
        { kind: 'lost-answer', status: 500, method: 'PUT', path: /\/leases\/\.probe-/ },
        { kind: 'lost-answer', status: 500, method: 'PUT', path: /\/leases\/[0-9a-f]{64}\.json$/ },
      );
      const before = sim.imageRequests().length;
      const result = await runNode([CLI, 'generate'], { cwd: dir, env });
      expect(result.code, result.output).toBe(0);
      expect(proxy.faults).toEqual([]);
      expect(proxy.seen.filter((r) => /^PUT .*\/leases\/[0-9a-f]{64}\.json$/.test(r)).length).toBeGreaterThan(N);
      // the shared cache stayed in use, leases on, and the run never waited for itself
      expect(result.output).not.toMatch(/not answering|leases are off|waiting \d+ s for another machine|could not upload/);
      expect(sim.imageRequests().length - before).toBe(N);
      const stored = join(apache.dir, folder);
      expect((await readdir(join(stored, 'entries'))).filter((f) => f.endsWith('.json'))).toHaveLength(N);
      expect(await readdir(join(stored, 'leases')).catch(() => [])).toEqual([]);
    } finally {
      await proxy.close();
      await apache.close();
    }
  });

  it.skipIf(!hasApache && !process.env.CI)('push counts a manifest as pushed when the store wrote it but answered with a 500', async () => {
    const apache = await startApacheDav();
    const proxy = await startFaultProxy(apache.url);
    try {
      const dir = await runner();
      for (let i = 1; i <= 3; i++) await writeFile(join(dir, 'src', `p${i}.imageprompt.json`), JSON.stringify({ model: 'z-image-turbo', prompt: `pushed picture ${i}`, width: 256, height: 256 }));
      // generated here, with no shared cache; then pushed, one manifest's answer lost
      const generated = await runNode([CLI, 'generate', 'src/p1.imageprompt.json', 'src/p2.imageprompt.json', 'src/p3.imageprompt.json'], { cwd: dir, env: { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url } });
      expect(generated.code, generated.output).toBe(0);
      const folder = `pushed-${randomBytes(4).toString('hex')}`;
      // the folders are there already, so that the manifest's PUT is written, not refused for a missing folder
      await makeFolders(apache.url, folder, 'entries');
      proxy.faults.push({ kind: 'lost-answer', status: 500, method: 'PUT', path: /\/entries\/[0-9a-f]{64}\.json$/ });
      const pushed = await runNode([CLI, 'push'], {
        cwd: dir,
        env: { VENICE_BASE_URL: sim.url, IMAGEPROMPT_REMOTE: `${proxy.url}/${folder}`, IMAGEPROMPT_REMOTE_TOKEN: 'team-token' },
      });
      expect(pushed.code, pushed.output).toBe(0);
      expect(proxy.faults).toEqual([]);
      expect(pushed.output).toMatch(/^3 pushed to .*, 0 already there, 0 failed/m);
      expect((await readdir(join(apache.dir, folder, 'entries'))).filter((f) => f.endsWith('.json'))).toHaveLength(3);
    } finally {
      await proxy.close();
      await apache.close();
    }
  });
});
