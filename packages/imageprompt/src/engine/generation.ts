/**
 * Paying for one image, once: with the cache proven writable and the key's lock held, the entry is
 * looked for again (another process may have just made it), then a rescued image of an earlier run,
 * then another machine's upload (its lease on the shared cache); only then is the provider called,
 * within the spend cap, the image checked and its metadata computed before the entry is committed
 * (and uploaded). A paid image the cache cannot hold is kept in the rescue folder, never lost.
 */
import { relative } from 'node:path';
import { LocalWriteError } from '../cache/atomic-file.js';
import type { LockWait } from '../cache/cache-lock.js';
import type { CacheEntry, EntryStore, LocalCache, Manifest, StagedOutput } from '../cache/cache-port.js';
import { GenerationSink, cacheWriteError } from '../cache/cache-write-failure.js';
import type { ResolvedEngineOptions } from '../config/engine-options.js';
import type { ImagePromptError } from '../errors/errors.js';
import type { PreparedRequest } from '../prompt/normalise-request.js';
import { PROVIDER } from '../prompt/request-key.js';
import type { RemoteLayer } from '../remote/remote-layer.js';
import type { SpendLedger } from '../venice/spend-ledger.js';
import type { GenerateHooks } from '../venice/venice-client.js';
import type { EntryMetadata } from './entry-metadata.js';
import type { ProviderClients } from './provider-clients.js';

export interface GenerationParts {
  options: ResolvedEngineOptions;
  store: LocalCache;
  entries: EntryStore;
  remote: RemoteLayer | undefined;
  clients: ProviderClients;
  ledger: SpendLedger;
  metadata: EntryMetadata;
  /** The catalog price of a request in US dollars, when the catalog has one. */
  priceOf(prepared: PreparedRequest): number | undefined;
  /** The longest one generation can take here; the lock says so to other processes. */
  holdMs: number;
  /** Whether an entry found may be served (a simulator's drawing is not, at Venice's own base URL). */
  servable(entry: CacheEntry, name: string): boolean;
  /**
   * Takes one of the `concurrency` slots (resolving to the function that gives it back). A generation
   * holds it from before it takes the key's lock (whose hold time, like a lease on the shared cache,
   * counts from then) until the provider's answer is in: checking the image, computing its metadata
   * and committing the entry happen after, while the next call already runs.
   */
  enterSlot(): Promise<() => void>;
}

export class Generation {
  constructor(private readonly parts: GenerationParts) {}

  /** The entry for the request: found after all (`cached`) or paid for now (`generated`). */
  async run(prepared: PreparedRequest, name: string): Promise<{ entry: CacheEntry; status: 'cached' | 'generated' }> {
    const { store, entries, remote, metadata, options } = this.parts;
    const client = this.parts.clients.get(prepared.send?.provider ?? PROVIDER, name);
    const { key } = prepared;
    // slots are taken in the order generations were asked for (the spend cap stops them in that order)
    const leaveSlot = await this.parts.enterSlot();
    let release: (() => Promise<void>) | undefined;
    try {
      // a cache that cannot be written is found out before anything is paid for
      await store.checkWritable();
      release = await store.lock(key, { holdMs: this.parts.holdMs, onWait: (wait) => this.reportWait(name, key, wait) });
      const raced = await entries.read(key);
      if (raced && this.parts.servable(raced, name)) return { entry: await metadata.complete(raced, name), status: 'cached' };
      const recovered = await store.recover(key);
      if (recovered && this.parts.servable(recovered, name)) {
        options.logger.info(`${name}: took the image paid for in an earlier run from ${store.rescueDir(key)}`);
        return { entry: await metadata.complete(recovered, name), status: 'cached' };
      }
      // another machine generating the same key: wait for its upload rather than pay again
      const theirs = await remote?.claim(key, (wait) =>
        options.logger.warn(`${name}: waiting ${Math.round(wait.waitedMs / 1000)} s for another machine generating key ${key.slice(0, 12)} to upload it to the shared cache`),
      );
      if (theirs && this.parts.servable(theirs, name)) return { entry: await metadata.complete(theirs, name), status: 'cached' };
      return { entry: await this.pay(prepared, name, client, leaveSlot), status: 'generated' };
    } finally {
      leaveSlot();
      if (release) {
        await remote?.release(key);
        await release();
      }
    }
  }

  private async pay(prepared: PreparedRequest, name: string, client: ReturnType<ProviderClients['get']>, leaveSlot: () => void): Promise<CacheEntry> {
    const { store, entries, ledger, metadata, options } = this.parts;
    const { key, send, step } = prepared;
    const price = this.parts.priceOf(prepared) ?? 0;
    const sink = new GenerationSink(store, key);
    const started = Date.now();
    const hooks: GenerateHooks = {
      onRetry: (notice) => options.logger.warn(`${name}: attempt ${notice.attempt} failed (${notice.reason}); retrying in ${(notice.delayMs / 1000).toFixed(1)} s`),
      beforeAttempt: () => {
        // never pay again while the cache cannot hold what was paid for
        if (sink.failure) throw cacheWriteError(sink.failure, store.dir, 'the image Venice sent was unusable, and no new one is asked for');
        ledger.reserve(name, price);
      },
      afterAttempt: (_attempt, charged) => ledger.settle(price, charged),
    };
    let result: Awaited<ReturnType<typeof client.generate>>;
    try {
      result = send ? await client.generateOpenAI(send.body, sink, hooks) : step ? await client.runStep(step, sink, hooks) : await client.generate(prepared.request, sink, hooks);
    } finally {
      // the answer is in (or the call failed): the next call may start while this one is kept
      leaveSlot();
    }
    const manifest: Omit<Manifest, 'outputs'> = {
      version: 1,
      key,
      provider: send?.provider ?? PROVIDER,
      request: prepared.request,
      ...(send ? { route: send.route, sent: send.body } : step ? { route: step.route, sent: step.body } : {}),
      seed: prepared.request.seed,
      seedSource: prepared.seedSource,
      response: { id: result.id, cfRay: result.cfRay, timing: result.timing },
      flags: { blurred: result.blurred, contentViolation: result.contentViolation },
      origin: { host: new URL(client.baseURL).host, simulator: result.simulator },
      createdAt: new Date().toISOString(),
      durationMs: Date.now() - started,
    };
    const outputs: StagedOutput[] = result.images.map((image) => ({ staged: image.staged, format: image.format, width: image.width, height: image.height }));
    if (sink.failure) throw await this.rescue(manifest, outputs, sink.failure);
    // computed before the entry is committed (and uploaded), so that every later hit reads it
    const metas = await metadata.compute(outputs.map((o) => ({ path: o.staged.tempPath, width: o.width, height: o.height })), name);
    outputs.forEach((o, i) => metas[i] && (o.meta = metas[i]));
    try {
      return await entries.commit(manifest, outputs);
    } catch (error) {
      if (error instanceof LocalWriteError) throw await this.rescue(manifest, outputs, error);
      throw error;
    }
  }

  /** Keeps a paid generation the cache could not store, and the error that says where it is. */
  private async rescue(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[], failure: LocalWriteError): Promise<ImagePromptError> {
    const { store } = this.parts;
    try {
      const kept = await store.rescue(manifest, outputs);
      const where = kept.length === 1 ? kept[0]! : `${store.rescueDir(manifest.key)} (${kept.length} images)`;
      return cacheWriteError(
        failure,
        store.dir,
        `the image Venice sent (and charged for) is kept at ${where}; the next build takes it from there instead of paying again, once the cache can be written`,
      );
    } catch (error) {
      await store.discard(outputs.map((o) => o.staged));
      return cacheWriteError(failure, store.dir, `the image Venice sent (and charged for) could not be kept elsewhere either (${(error as Error).message}), so it is lost`);
    }
  }

  private reportWait(name: string, key: string, wait: LockWait): void {
    const lock = relative(this.parts.options.root, wait.path);
    const holder = wait.owner
      ? `held by pid ${wait.owner.pid} on ${wait.owner.host} since ${new Date(wait.owner.since).toISOString()}; taken over if that process ends`
      : 'empty, left by a process killed while taking it; taken over within seconds';
    this.parts.options.logger.warn(`${name}: waiting ${Math.round(wait.waitedMs / 1000)} s for another process generating key ${key.slice(0, 12)} (lock ${lock}, ${holder})`);
  }
}
