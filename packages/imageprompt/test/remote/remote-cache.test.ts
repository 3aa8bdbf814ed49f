/**
 * The shared cache's breaker, against a backend of the test's own: the first fault that shows the
 * remote is not answering sets it aside for the run, with one warning, and operations already
 * queued are not sent; a 429 alone is waited out. No clock is read: the backend counts calls.
 */
import { describe, expect, it } from 'vitest';
import { RemoteCache } from '../../src/remote/remote-cache.js';
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
    ['a 503', () => Promise.reject(new RemoteError('GET x: HTTP 503 (busy)', true, 503))],
    ['a timeout', () => Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))],
    ['a refused connection', () => Promise.reject(new RemoteError('GET x: ECONNREFUSED', true))],
  ])('%s sets the remote aside: 16 lookups send no more than were in flight, one warning', async (_what, fault) => {
    const warnings: string[] = [];
    const store = backend(fault as () => Promise<never>);
    const remote = cache(store, warnings);
    expect(await Promise.all(keys.map((key) => remote.manifest(key)))).toEqual(keys.map(() => undefined));
    expect(store.calls).toBeLessThanOrEqual(2);
    expect(remote.available).toBe(false);
    expect(warnings.filter((w) => /is not answering .* set aside for the rest of this run/.test(w))).toHaveLength(1);
    expect(await remote.upload({ manifest: { key: keys[0] } as never, paths: [] })).toBe('off');
  });

  it('a 429 is waited out and tried again; the remote stays in use', async () => {
    const warnings: string[] = [];
    const store = backend((call) => (call === 1 ? Promise.reject(new RemoteError('GET x: HTTP 429 (slow down)', true, 429)) : Promise.resolve(undefined)));
    const remote = cache(store, warnings);
    expect(await remote.manifest(keys[0]!)).toBeUndefined();
    expect(store.calls).toBe(2);
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
