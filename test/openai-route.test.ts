/**
 * The OpenAI-compatible route over real HTTP: `"api": "openai"` prompt files go to
 * `/images/generations` with `response_format: "b64_json"`, are cached under keys of their own
 * (route and provider included) and imported like native ones; a named provider gets its own key
 * and no other; the command prices them.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVeniceSim, type VeniceSim } from 'venice-sim';
import imageprompt from 'unplugin-imageprompt/vite';
import { ImagePromptEngine, ImagePromptError, silentLogger, type Logger, type Manifest } from 'imageprompt';
import { copyFixture, filesContaining, listFiles, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { withEnv } from './helpers/environment.js';
import { runNode, commandOf } from './helpers/processes.js';

const KEY = secretKey();
const OTHER_KEY = secretKey();
let sim: VeniceSim;
/** A second OpenAI-compatible API, which knows only its own key. */
let other: VeniceSim;
let root: string;
let logs: string[] = [];
const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  sim = await startSim(KEY);
  other = await startVeniceSim({ keys: [OTHER_KEY], rpm: 0 });
});
afterAll(async () => {
  await sim.close();
  await other.close();
});
beforeEach(async () => {
  root = await copyFixture('slow-site');
  logs = [];
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
  other.script({ clearRequests: true });
  await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ api: 'openai', model: 'z-image-turbo', prompt: 'a harbour at dawn', size: '512x512', output_format: 'webp', alt: 'Harbour' }));
  await writeFile(join(root, 'src', 'p2.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'a harbour at dawn', width: 512, height: 512 }));
  await writeFile(join(root, 'imageprompt.config.json'), JSON.stringify({ providers: { acme: { baseURL: other.url, apiKeyEnv: 'ACME_API_KEY' } } }));
  await writeFile(join(root, 'src', 'p3.imageprompt.json'), JSON.stringify({ api: 'openai', provider: 'acme', model: 'z-image-turbo', prompt: 'a harbour at dawn', size: '256x256' }));
  return () => removeFixture(root);
});

async function viteBuild(env: Record<string, string | undefined> = {}): Promise<{ src: string; width: number; height: number; alt: string }[]> {
  await withEnv({ ACME_API_KEY: 'ACME_API_KEY' in env ? env.ACME_API_KEY : OTHER_KEY }, () =>
    build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [imageprompt({ apiKey: KEY, baseURL: sim.url, logger })],
      build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
    }),
  );
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  await import(`${pathToFileURL(js).href}?t=${Date.now()}`);
  return (globalThis as unknown as { __imageprompt: { src: string; width: number; height: number; alt: string }[] }).__imageprompt;
}

describe('"api": "openai"', () => {
  it('makes one request to /images/generations, caches it under its own key, and a rebuild makes none', async () => {
    const shown = await viteBuild();
    const openai = sim.imageRequests().filter((r) => r.path.endsWith('/images/generations'));
    expect(openai).toHaveLength(1);
    expect(openai[0]!.body).toEqual({
      model: 'z-image-turbo',
      prompt: 'a harbour at dawn',
      size: '512x512',
      n: 1,
      output_format: 'webp',
      moderation: 'auto',
      quality: 'auto',
      background: 'auto',
      style: 'natural',
      response_format: 'b64_json',
    });
    // imported exactly like a native one: the served bytes, its size, its alt
    expect(shown[0]).toMatchObject({ width: 512, height: 512, alt: 'Harbour' });
    expect(sha256(await readFile(join(root, 'dist', shown[0]!.src)))).toBe(openai[0]!.servedImages[0]);
    // the same words on the native route are another request, another entry
    expect(sim.imageRequests().filter((r) => r.path.endsWith('/image/generate'))).toHaveLength(2);
    const manifests = await Promise.all((await listFiles(join(root, '.imageprompt', 'entries'))).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Manifest));
    const routed = manifests.filter((m) => m.route === 'images/generations');
    expect(routed.map((m) => m.provider).sort()).toEqual(['acme', 'venice']);
    expect(new Set(manifests.map((m) => m.key)).size).toBe(manifests.length);

    await viteBuild();
    expect(sim.imageRequests()).toHaveLength(3);
    expect(other.imageRequests()).toHaveLength(1);
  });

  it('a named provider gets its own key and no other; neither key appears in any artefact', async () => {
    await viteBuild();
    const theirs = other.imageRequests();
    expect(theirs).toHaveLength(1);
    // the other server knows only its own key: a 200 means it was sent that key
    expect(theirs[0]!.status).toBe(200);
    expect(theirs[0]!.path).toBe('/api/v1/images/generations');
    expect(sim.imageRequests().every((r) => r.status === 200)).toBe(true);
    expect(await filesContaining(root, KEY)).toEqual([]);
    expect(await filesContaining(root, OTHER_KEY)).toEqual([]);
    expect(logs.join('\n')).not.toContain(OTHER_KEY);
  });

  it('a provider whose key variable is unset fails naming the variable; Venice is not asked instead', async () => {
    const error = await viteBuild({ ACME_API_KEY: undefined }).catch((e: Error) => e);
    expect(String(error)).toMatch(/src\/p3\.imageprompt\.json: provider "acme" needs its key in ACME_API_KEY, and that variable is not set/);
    expect(other.imageRequests()).toHaveLength(0);
    expect(sim.imageRequests().filter((r) => JSON.stringify(r.body).includes('256x256'))).toHaveLength(0);
  });

  it('warns before paying when Venice does not know the model, since it would use its default', async () => {
    await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ api: 'openai', model: 'dall-e-3', prompt: 'a harbour at dusk' }));
    await viteBuild();
    expect(logs.some((l) => /src\/p1\.imageprompt\.json: Venice does not know the model "dall-e-3"; on this route it quietly uses its default \(z-image-turbo\)/.test(l))).toBe(true);
  });

  it.each([
    [{ safe_mode: false }, 'safe_mode', /is not accepted on the OpenAI-compatible route[\s\S]*"moderation": "low"/],
    [{ n: 2 }, 'n', /must be 1: this route makes one image a call/],
    [{ size: '800x600' }, 'size', /"800x600" is not allowed[\s\S]*"1024x1792"/],
    [{ variants: 2 }, 'variants', /use the native route/],
    [{ response_format: 'url' }, 'response_format', /always asks for "b64_json"/],
    [{ moderaton: 'low' }, 'moderaton', /did you mean "moderation"/],
    [{ api: 'anthropic' }, 'api', /"anthropic" is not allowed[\s\S]*use "openai"/],
    [{ provider: 'acme', api: undefined }, 'provider', /needs "api": "openai"/],
    [{ provider: 'acme-typo' }, 'provider', /"acme-typo" is not a provider in imageprompt\.config\.json[\s\S]*use one of venice, acme/],
  ])('%o is one clear error and no request', async (fields, field, message) => {
    await writeFile(join(root, 'src', 'p1.imageprompt.json'), JSON.stringify({ api: 'openai', model: 'z-image-turbo', prompt: 'x', ...fields }));
    const engine = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
    const error = (await engine.load(join(root, 'src', 'p1.imageprompt.json')).catch((e: unknown) => e)) as ImagePromptError;
    expect(error).toBeInstanceOf(ImagePromptError);
    expect(error.field).toBe(field);
    expect(`${error.message}\n${error.hint}`).toMatch(message);
    expect(sim.imageRequests()).toHaveLength(0);
  });

  it('imageprompt plan prices it: Venice from its catalog, another provider as unknown', async () => {
    const result = await runNode([commandOf('imageprompt'), 'plan', '--json'], { cwd: root, env: { VENICE_BASE_URL: sim.url, VENICE_API_KEY: undefined } });
    expect(result.code, result.output).toBe(0);
    const plan = JSON.parse(result.output) as { misses: { file: string; priceUsd: number | null; width: number; height: number }[] };
    const byFile = Object.fromEntries(plan.misses.map((m) => [m.file, m]));
    expect(byFile['src/p1.imageprompt.json']).toMatchObject({ priceUsd: 0.01, width: 512, height: 512 });
    expect(byFile['src/p3.imageprompt.json']).toMatchObject({ priceUsd: null, width: 256, height: 256 });
    expect(sim.imageRequests()).toHaveLength(0);
  });
});
