/**
 * A shared cache set up wrong is named as such: a bucket that does not exist (against a real S3
 * server), credentials the store does not know, the wrong region, a token an HTTP store refuses.
 * Each is one line, said once per run, before the first image is paid for; the run goes on with the
 * local cache, and every image is still generated and kept.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VeniceSim } from 'venice-sim';
import { ImagePromptEngine, type Logger } from 'imageprompt';
import { copyFixture, removeFixture, secretKey, startSim } from './helpers/fixtures.js';
import { withEnv } from './helpers/environment.js';
import { startS3, startScriptedServer, type RunningStore, type ScriptedServer } from './helpers/remote-servers.js';

const KEY = secretKey();
const AWS_SECRET = `aws-secret-${secretKey()}`;
const PROMPTS = ['src/hero.imageprompt.json', 'src/pears.imageprompt.json', 'src/pictures/twin.imageprompt.json'];
let sim: VeniceSim;
let s3: RunningStore;
let s3Answers: ScriptedServer;
let httpStore: ScriptedServer;
/** What the scripted S3 store answers every request with (status, headers, XML body), as AWS words them. */
let s3Answer: { status: number; headers?: Record<string, string>; code: string; extra?: string };
const roots: string[] = [];

beforeAll(async () => {
  sim = await startSim(KEY);
  s3 = await startS3('present-bucket');
  s3Answers = await startScriptedServer((req, res) => {
    res.writeHead(s3Answer.status, { 'Content-Type': 'application/xml', ...s3Answer.headers });
    res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${s3Answer.code}</Code><Message>as S3 says it</Message>${s3Answer.extra ?? ''}<RequestId>R1</RequestId></Error>`);
  });
  httpStore = await startScriptedServer((_req, res) => {
    res.writeHead(401, { 'WWW-Authenticate': 'Bearer' });
    res.end('unauthorised');
  });
});
afterAll(async () => {
  await sim.close();
  await s3.close();
  await s3Answers.close();
  await httpStore.close();
  await Promise.all(roots.map(removeFixture));
});
beforeEach(() => {
  sim.script({ clearRequests: true, clearFaults: true, latencyMs: 0 });
});

interface Run {
  /** Everything logged, with `[paid]` where the first image request reached the simulator. */
  events: string[];
  warnings: string[];
}

/**
 * Loads every prompt file of a fresh project with the shared cache at `remote` under `env`; the
 * simulator holds its answers until the first request arrives, so the log shows what was said before
 * any image was paid for.
 */
async function run(remote: string, env: Record<string, string | undefined>): Promise<Run> {
  const root = await copyFixture('bundler-app');
  roots.push(root);
  const events: string[] = [];
  const warnings: string[] = [];
  const logger: Logger = { info: (m) => events.push(m), warn: (m) => (events.push(m), warnings.push(m)), error: (m) => events.push(m) };
  const before = sim.imageRequests().length;
  sim.script({ hold: true });
  const engine = await withEnv(env, async () => new ImagePromptEngine({ root, apiKey: KEY, baseURL: sim.url, logger, remote, retry: { baseDelayMs: 5, maxBackoffMs: 20 } }));
  const loads = Promise.all(PROMPTS.map((file) => engine.load(join(root, file))));
  while (sim.heldRequests() === 0 && sim.imageRequests().length === before) await new Promise((resolve) => setTimeout(resolve, 10));
  events.push('[paid]');
  sim.script({ release: true });
  const images = await loads;
  await engine.drain();
  // the run went on with the local cache: every image generated and kept
  expect(images.map((image) => image.status)).toEqual(['generated', 'generated', 'generated']);
  expect(sim.imageRequests().length - before).toBe(2);
  return { events, warnings };
}

function saidOnceBeforePaying({ events, warnings }: Run, pattern: RegExp): string {
  const said = warnings.filter((w) => /shared cache/.test(w));
  expect(said, 'one line about the shared cache').toHaveLength(1);
  expect(said[0]).toMatch(pattern);
  expect(events.indexOf(said[0]!), 'said before the first image was paid for').toBeLessThan(events.indexOf('[paid]'));
  expect(said[0]).not.toContain(AWS_SECRET);
  return said[0]!;
}

const s3Env = (endpoint: string, region?: string) => ({
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_ENDPOINT_URL_S3: endpoint,
  AWS_REGION: region,
  AWS_DEFAULT_REGION: undefined,
  IMAGEPROMPT_REMOTE_MODE: 'write',
});

describe('a misconfigured shared cache', () => {
  it('names a bucket that does not exist (a real S3 server answers NoSuchBucket)', async () => {
    const result = await run('s3://no-such-bucket/site', s3Env(s3.url));
    const line = saidOnceBeforePaying(result, /misconfigured: the bucket "no-such-bucket" does not exist at .* \(NoSuchBucket\): check the bucket in IMAGEPROMPT_REMOTE and the endpoint; it is set aside/);
    expect(line).not.toMatch(/not answering/);
  });

  it('names the region the bucket is in', async () => {
    s3Answer = { status: 400, code: 'AuthorizationHeaderMalformed', extra: '<Region>eu-west-1</Region>' };
    const result = await run('s3://photos/site', s3Env(s3Answers.url, 'us-east-1'));
    saidOnceBeforePaying(result, /the bucket "photos" is in region eu-west-1, not us-east-1: set AWS_REGION=eu-west-1 \(AuthorizationHeaderMalformed\)/);
    // unsigned reads of a public bucket in another region meet a redirect that names it in a header
    s3Answer = { status: 301, code: 'PermanentRedirect', headers: { 'x-amz-bucket-region': 'ap-southeast-2' } };
    const redirected = await run('s3://photos/site', { ...s3Env(s3Answers.url), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, IMAGEPROMPT_REMOTE_MODE: undefined });
    saidOnceBeforePaying(redirected, /is in region ap-southeast-2, not us-east-1: set AWS_REGION=ap-southeast-2 \(PermanentRedirect\)/);
  });

  it.each([
    ['InvalidAccessKeyId', /the access key id in AWS_ACCESS_KEY_ID is not known to this store \(InvalidAccessKeyId\)/],
    ['SignatureDoesNotMatch', /AWS_SECRET_ACCESS_KEY does not belong to the access key id in AWS_ACCESS_KEY_ID \(SignatureDoesNotMatch\)/],
    ['ExpiredToken', /the session token in AWS_SESSION_TOKEN has expired \(ExpiredToken\)/],
    ['AccessDenied', /these credentials may not read s3:\/\/photos \(AccessDenied\)/],
  ])('names credentials the store refuses: %s', async (code, pattern) => {
    s3Answer = { status: 403, code };
    saidOnceBeforePaying(await run('s3://photos/site', s3Env(s3Answers.url)), pattern);
  });

  it('names a token an HTTP store refuses', async () => {
    const withToken = await run(`${httpStore.url}/cache`, { IMAGEPROMPT_REMOTE_TOKEN: 'team-token-123', IMAGEPROMPT_REMOTE_MODE: 'write' });
    const line = saidOnceBeforePaying(withToken, /refused a read with HTTP 401: it does not accept the token in IMAGEPROMPT_REMOTE_TOKEN/);
    expect(line).not.toContain('team-token-123');
    const without = await run(`${httpStore.url}/cache`, { IMAGEPROMPT_REMOTE_TOKEN: undefined, IMAGEPROMPT_REMOTE_MODE: undefined });
    saidOnceBeforePaying(without, /wants a token, and IMAGEPROMPT_REMOTE_TOKEN is not set/);
  });
});
