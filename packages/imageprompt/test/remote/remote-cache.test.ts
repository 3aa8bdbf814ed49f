/**
 * The shared cache's breaker, against a backend of the test's own: a fault that shows the remote is
 * not answering (a timeout, a refused connection, a 5xx on every try) sets it aside for the run, with
 * one warning, and operations already queued are not sent; a 429 or a 503 is waited out, and a lone
 * 5xx tried again. No clock is read: the backend counts calls.
 */
import { describe, expect, it } from 'vitest';
import { RemoteCache } from '../../src/remote/remote-cache.js';
import { FAILED_ANSWER_ATTEMPTS } from '../../src/remote/outage-breaker.js';
import { RemoteError, type RemoteBackend } from '../../src/remote/remote-backend.js';

function backend(answer: (call: number) => Promise<never> | Promise<undefined>): RemoteBackend & { calls: number } {
  const b = {
    label: 'test store',
    canWrite: true,
    calls: 0,
    get: () => answer(++b.calls),
    exists: () => answer(++b.calls).then(() => false),
    put: () => answer(++b.calls).then(() => true),
    remove: () => answer(++b.calls).then(() => undefined),
  };
  return b;
}

const cache = (store: RemoteBackend, warnings: string[]) =>
  new RemoteCache({ backend: store, mode: 'read', signingKey: undefined, logger: { info: () => {}, warn: (m) => warnings.push(m), error: () => {} }, retry: { baseDelayMs: 1, maxBackoffMs: 1 }, concurrency: 2 });

const keys = Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(64, '0'));

describe('RemoteCache breaker', () => {
  it.each([
    ['a 500 on every try', () => Promise.reject(new RemoteError('GET x: HTTP 500 (broken)', true, 500)), FAILED_ANSWER_ATTEMPTS],
    ['a timeout', () => Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), 1],
    ['a refused connection', () => Promise.reject(new RemoteError('GET x: ECONNREFUSED', true)), 1],
  ])('%s sets the remote aside: 16 lookups send no more than were in flight, each tried as often as its fault allows, one warning', async (_what, fault, tries) => {
    const warnings: string[] = [];
    const store = backend(fault as () => Promise<never>);
    const remote = cache(store, warnings);
    expect(await Promise.all(keys.map((key) => remote.manifest(key)))).toEqual(keys.map(() => undefined));
    expect(store.calls).toBeGreaterThanOrEqual(tries);
    expect(store.calls).toBeLessThanOrEqual(2 * tries);
    expect(remote.available).toBe(false);
    expect(warnings.filter((w) => /is not answering .* set aside for the rest of this run/.test(w))).toHaveLength(1);
    expect(await remote.upload({ manifest: { key: keys[0] } as never, paths: [] })).toBe('off');
  });

  it.each([
    ['a 500', 500, 2],
    ['a 502', 502, 2],
    ['a 503 (S3 says slow down)', 503, 4],
    ['a 429', 429, 4],
  ])('%s is tried again and the remote stays in use', async (_what, status, failures) => {
    const warnings: string[] = [];
    const store = backend((call) => (call <= failures ? Promise.reject(new RemoteError(`GET x: HTTP ${status} (busy)`, true, status)) : Promise.resolve(undefined)));
    const remote = cache(store, warnings);
    expect(await remote.manifest(keys[0]!)).toBeUndefined();
    expect(store.calls).toBe(failures + 1);
    expect(remote.available).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a 404 is a miss, not a fault', async () => {
    const warnings: string[] = [];
    const store = backend(() => Promise.resolve(undefined));
    const remote = cache(store, warnings);
    expect(await Promise.all(keys.map((key) => remote.manifest(key)))).toEqual(keys.map(() => undefined));
    expect(store.calls).toBe(16);
    expect(remote.available).toBe(true);
  });
});
