/**
 * A corpus of malformed prompt files (test/fixtures/bad-prompts, expectations in expected.json):
 * each gives one clear error naming the file, the field and the fix, and no API call is made.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, ImagePromptError, silentLogger } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

const KEY = secretKey();
let sim: VeniceSim;
let root: string;
let engine: ImagePromptEngine;
const expected = JSON.parse(
  await readFile(new URL('./fixtures/bad-prompts/expected.json', import.meta.url), 'utf8'),
) as Record<string, { field: string | null; message: string }>;
expected['99-five-megabytes.imageprompt.json'] = { field: null, message: 'prompt files are limited to 262144 bytes' };

beforeAll(async () => {
  sim = await startSim(KEY);
  root = await copyFixture('bad-prompts');
  // a 5 MB prompt file, made here rather than committed
  await writeFile(join(root, '99-five-megabytes.imageprompt.json'), JSON.stringify({ model: 'z-image-turbo', prompt: 'x'.repeat(5 * 1024 * 1024) }));
  engine = new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger: silentLogger });
});
afterAll(async () => {
  await sim.close();
  await removeFixture(root);
});

describe('malformed prompt files', () => {
  it('the corpus holds at least 40 cases', () => {
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(40);
  });

  it.each(Object.keys(expected))('%s', async (name) => {
    const { field, message } = expected[name]!;
    const error = await engine.load(join(root, name)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the file must be rejected').toBeInstanceOf(ImagePromptError);
    const failure = error as ImagePromptError;
    expect(failure.message.startsWith(name), failure.message).toBe(true);
    expect(failure.field ?? null).toBe(field);
    if (field) expect(failure.message).toContain(`field "${field}"`);
    expect(failure.message).toMatch(new RegExp(message));
    expect(failure.hint, 'every error says what to do').toBeTruthy();
    expect(failure.message).not.toContain(KEY);
  });

  it('made no image request for any of them', () => {
    expect(sim.imageRequests()).toHaveLength(0);
  });
});

describe('a bad prompt file in a Vite build', () => {
  it('prints one block like the command’s: file, field, what, what to do; no stack or schema dump unless DEBUG=imageprompt', async () => {
    const site = await copyFixture('slow-site');
    try {
      await writeFile(join(site, 'src', 'p1.imageprompt.json'), '{ "model": "z-image-turbo", "prompt": "x", "widht": 5 }');
      const vite = binOf('vite', 'bin/vite.js');
      const env = { VENICE_API_KEY: KEY, VENICE_BASE_URL: sim.url, IMAGEPROMPT_MODE: 'placeholder' };
      const plain = await runNode([vite, 'build'], { cwd: site, env });
      expect(plain.code).not.toBe(0);
      expect(plain.output).toContain('imageprompt: src/p1.imageprompt.json, field "widht": is not a field Venice accepts\n  → did you mean "width"?\n');
      // ids shown to people are relative to the root, with no NUL byte of a virtual id in them
      expect(plain.output).not.toContain('\0');
      expect(plain.output).not.toContain(site);
      expect(plain.output).not.toMatch(/ZodError|at schemaError|at ImagePromptEngine|unrecognized_keys/);
      const debug = await runNode([vite, 'build'], { cwd: site, env: { ...env, DEBUG: 'imageprompt' } });
      expect(debug.output).toMatch(/ZodError/);
    } finally {
      await removeFixture(site);
    }
  });
});
