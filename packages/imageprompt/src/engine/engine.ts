/**
 * The engine as the plugin and the CLI use it: from a prompt file path to image files, from the
 * cache or generated on a miss (never twice for the same request), or, where the mode says so,
 * a placeholder or a recorded miss.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LocalWriteError, writeFileAtomic } from '../cache/atomic-file.js';
import type { LockWait } from '../cache/cache-lock.js';
import type { CacheEntry, EntryStore, LocalCache, Manifest, StagedOutput } from '../cache/cache-port.js';
import { CacheStore } from '../cache/cache-store.js';
import { GenerationSink, cacheWriteError } from '../cache/cache-write-failure.js';
import { buildDefaultsPath, resolveEngineOptions, type EngineOptions, type Mode, type ResolvedEngineOptions } from '../config/engine-options.js';
import { ImagePromptError } from '../errors/errors.js';
import { GenerationQueue } from './generation-queue.js';
import { computeImageMetadata, type ImageMetadata } from '../images/image-metadata.js';
import { KeyRefs, contentDigest } from '../cache/key-refs.js';
import type { AnyPromptFile } from '../prompt/prompt-file.js';
import { loadLiveCatalog } from '../catalog/live-catalog.js';
import { ModelCatalog } from '../catalog/model-catalog.js';
import { prepareRequest, type PreparedRequest } from '../prompt/normalise-request.js';
import { prepareOpenAIRequest } from '../prompt/openai-route.js';
import { placeholderImages } from '../images/placeholder-image.js';
import { requestPriceUsd } from '../catalog/pricing.js';
import { readPromptFile } from '../prompt/prompt-file.js';
import { RemoteCache } from '../remote/remote-cache.js';
import { RemoteLayer } from '../remote/remote-layer.js';
import { PROVIDER } from '../prompt/request-key.js';
import { DEFAULT_RETRY_POLICY, worstCaseDurationMs } from '../http/retry-policy.js';
import { SpendLedger } from '../venice/spend-ledger.js';
import { VeniceClient, type GenerateHooks } from '../venice/venice-client.js';
import type { ImageFormat } from '../prompt/prompt-schema.js';

export interface ResolvedImage {
  /** Absolute path of the image file. */
  path: string;
  width: number;
  height: number;
  format: ImageFormat;
  /** sha256 of the bytes; null for placeholders. */
  digest: string | null;
  /** Blur-up placeholder, ThumbHash, colour and aspect ratio (unless the metadata option is off). */
  meta?: ImageMetadata;
}

export type ImageStatus = 'cached' | 'generated' | 'placeholder' | 'missing';

export interface ImageResult {
  file: string;
  key: string;
  alt: string | undefined;
  seed: number;
  /** `placeholder` and `missing` (frozen mode) images are local drawings, not Venice output. */
  status: ImageStatus;
  images: ResolvedImage[];
}

/** A prepared request with the digest of the prompt file it came from. */
export type PreparedPromptFile = PreparedRequest & { content: string };

/** What prompt files with the same request share. */
type SharedResult = Omit<ImageResult, 'file' | 'alt'>;

export type BuildStats = Record<ImageStatus | 'failed', number>;

export interface MissingImage {
  file: string;
  key: string;
}

const emptyStats = (): BuildStats => ({ cached: 0, generated: 0, placeholder: 0, missing: 0, failed: 0 });

export class ImagePromptEngine {
  readonly options: ResolvedEngineOptions;
  /** The local cache directory: entries, and the locks, staging and rescue that stay on this machine. */
  readonly store: LocalCache;
  /** The shared cache layered over the local one, when there is one. */
  readonly remote: RemoteLayer | undefined;
  /** Where entries are read and committed: the shared layer if there is one, else the local cache. */
  readonly entries: EntryStore;
  private liveCatalog: Promise<ModelCatalog> | undefined;
  private explicitCatalog: ModelCatalog | undefined;
  /** The catalog in use: the live one once fetched (when generating), else the bundled snapshot. */
  catalog: ModelCatalog;
  private readonly ledger: SpendLedger;
  /** Images whose metadata this engine computed (a cache hit with stored metadata computes none). */
  metadataComputed = 0;
  readonly refs: KeyRefs;
  private refWarned = false;
  /** The longest one generation can take here; the lock says so to other processes. */
  private readonly holdMs: number;
  private readonly queue: GenerationQueue;
  /** One client per provider, so that each key goes only to its own base URL. */
  private clients = new Map<string, VeniceClient>();
  private stats = emptyStats();
  private missing = new Map<string, MissingImage>();

  constructor(options: EngineOptions = {}, catalog?: ModelCatalog) {
    this.explicitCatalog = catalog;
    this.catalog = catalog ?? ModelCatalog.bundled();
    this.options = resolveEngineOptions(options);
    this.store = new CacheStore(this.options.cacheDir, this.options.logger);
    const shared = this.options.remote;
    this.remote = shared
      ? new RemoteLayer(
          this.store,
          new RemoteCache({
            backend: shared.backend,
            mode: shared.mode,
            signingKey: shared.signingKey,
            logger: this.options.logger,
            retry: this.options.retry,
            ...(shared.timeoutMs ? { timeoutMs: shared.timeoutMs } : {}),
          }),
          this.options.logger,
        )
      : undefined;
    this.entries = this.remote ?? this.store;
    this.queue = new GenerationQueue(this.options.concurrency);
    this.ledger = new SpendLedger(this.options.maxSpendUsd);
    this.refs = new KeyRefs(this.options.cacheDir, this.options.root);
    this.holdMs = worstCaseDurationMs({ ...DEFAULT_RETRY_POLICY, ...this.options.retry }, this.options.timeoutMs);
  }

  /** US dollars this engine has spent at catalog prices: every attempt Venice charged for, retries included. */
  get spentUsd(): number {
    return this.ledger.spent;
  }

  /** What a miss does here: the mode chosen, or by key (and dev server or build) when none was. */
  get missMode(): Mode | 'fail' {
    if (this.options.mode) return this.options.mode;
    if (this.options.apiKey || this.options.siwx || Object.values(this.options.providers).some((p) => p.apiKey)) return 'generate';
    return this.options.context === 'dev' ? 'placeholder' : 'fail';
  }

  /** Reads and checks a prompt file and works out its request and key; no network, no cache. */
  async prepare(file: string): Promise<PreparedPromptFile> {
    return this.preparePrompt(await readPromptFile(file, this.display(file)), this.display(file));
  }

  /** `prepare` for a prompt file already parsed (from git history, say); `name` is what messages call it. */
  async preparePrompt(prompt: AnyPromptFile, name: string, { quiet = false } = {}): Promise<PreparedPromptFile> {
    const catalog = await this.currentCatalog();
    const prepared =
      'api' in prompt
        ? prepareOpenAIRequest(prompt, this.options.defaults, catalog, name, Object.keys(this.options.providers))
        : prepareRequest(prompt, this.options.defaults, catalog, name);
    if (!quiet) for (const warning of prepared.warnings) this.options.logger.warn(`${name}: ${warning}`);
    return { ...prepared, content: contentDigest(prompt) };
  }

  /** The digest of a prompt file's content (its canonical JSON), as key refs record it; throws if it does not parse. */
  async contentOf(file: string): Promise<string> {
    return contentDigest(await readPromptFile(file, this.display(file)));
  }

  /** The images for a prompt file. */
  async load(file: string): Promise<ImageResult> {
    const name = this.display(file);
    try {
      const prepared = await this.prepare(file);
      const started = Date.now();
      // shared by every prompt file with this request; the file and its alt are each file's own
      const shared = await this.queue.run(prepared.key, () => this.obtain(prepared, name));
      const result: ImageResult = { ...shared, file, alt: prepared.alt };
      if (result.status === 'missing') this.missing.set(name, { file: name, key: prepared.key });
      if (result.status === 'cached' || result.status === 'generated') await this.recordRef(file, prepared);
      this.stats[result.status] += 1;
      this.report(name, result, Date.now() - started);
      return result;
    } catch (error) {
      this.stats.failed += 1;
      const failure = error instanceof ImagePromptError ? error.withFile(name) : error;
      const message = (failure as Error).message.split('\n')[0]!;
      this.options.logger.error(`${name}: failed: ${message.startsWith(name) ? message.slice(name.length).replace(/^[,:]\s*/, '') : message}`);
      throw failure;
    }
  }

  /**
   * The images for a prompt file without waiting for Venice, for dev servers: a hit, a placeholder
   * mode, a failure or an invalid file as `load` gives them; a miss that would be generated answers
   * at once with a placeholder of the request's size (`status: 'placeholder'`, blur-up fields
   * included), and `generated` settles when the paid image is in the cache (rejecting as `load`
   * would). Generation is `load`'s own: shared per request key, counted, logged, never paid twice.
   */
  async loadWithoutWaiting(file: string): Promise<{ result: ImageResult; generated?: Promise<ImageResult> }> {
    const name = this.display(file);
    // quiet: load prepares again and says the warnings once
    const prepared = await readPromptFile(file, name)
      .then((prompt) => this.preparePrompt(prompt, name, { quiet: true }))
      .catch(() => undefined);
    // an invalid file fails in load, with load's message and count
    if (!prepared || this.missMode !== 'generate' || (await this.entries.has(prepared.key))) return { result: await this.load(file) };
    // the placeholder first: the page is waiting for it, while the image takes seconds anyway
    const images = await placeholderImages(this.options.placeholderDir, prepared.request, this.options.metadata);
    const generated = this.load(file);
    // the caller takes the outcome; a rejection nobody awaited yet must not end the process
    generated.catch(() => undefined);
    this.options.logger.info(`${name}: generating in the background; a placeholder is shown until it lands`);
    return {
      result: { key: prepared.key, seed: prepared.request.seed, status: 'placeholder', images: images.map((image) => ({ ...image, digest: null })), file, alt: prepared.alt },
      generated,
    };
  }

  /**
   * Waits for every generation in flight. A build that fails on one prompt file calls this before it
   * exits, so that images already being paid for still reach the cache.
   */
  async drain(): Promise<void> {
    await this.queue.settled();
    await this.entries.settled();
  }

  /**
   * Records the defaults given in code (plugin options) in the cache, or removes the record when
   * there are none, so that the imageprompt command computes the same keys as this build.
   */
  async recordBuildDefaults(given: EngineOptions['defaults']): Promise<void> {
    const path = buildDefaultsPath(this.options.cacheDir);
    try {
      if (given && Object.keys(given).length > 0) {
        const text = `${JSON.stringify(given, null, 2)}\n`;
        if ((await readFile(path, 'utf8').catch(() => '')) !== text) {
          await mkdir(this.options.cacheDir, { recursive: true });
          await writeFileAtomic(path, text);
        }
      } else await rm(path, { force: true });
    } catch (error) {
      this.options.logger.warn(`could not record the plugin's defaults in ${path} (${(error as Error).message}); \`imageprompt\` commands may compute other keys`);
    }
  }

  /** Counts since the last call, for a per-build summary. */
  takeStats(): BuildStats {
    const stats = this.stats;
    this.stats = emptyStats();
    return stats;
  }

  /** Prompt files a frozen build found missing since the last call. */
  takeMissing(): MissingImage[] {
    const missing = [...this.missing.values()];
    this.missing.clear();
    return missing;
  }

  summary(stats: BuildStats): string {
    const total = Object.values(stats).reduce((a, b) => a + b, 0);
    const parts = [`${stats.cached} cached`, `${stats.generated} generated`];
    if (stats.placeholder) parts.push(`${stats.placeholder} placeholders`);
    if (stats.missing) parts.push(`${stats.missing} missing`);
    parts.push(`${stats.failed} failed`);
    return `${total} image${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
  }

  /** The error a frozen build ends with: every missing prompt file, its key, and how to fill the cache. */
  frozenError(missing: MissingImage[]): ImagePromptError {
    const lines = missing.map((m) => `\n  ${m.file} (key ${m.key})`).join('');
    return new ImagePromptError({
      code: 'FROZEN_MISS',
      message: `${missing.length} image${missing.length === 1 ? ' is' : 's are'} not in the cache (${this.cacheName()}) and frozen mode generates nothing:${lines}`,
      hint: 'fill the cache with `npx imageprompt generate` (VENICE_API_KEY set), or build once in generate mode, then commit or save the cache',
    });
  }

  private report(name: string, result: ImageResult, ms: number): void {
    const { logger } = this.options;
    if (result.status === 'generated') logger.info(`${name}: generated in ${(ms / 1000).toFixed(1)} s`);
    else if (result.status === 'cached') logger.info(`${name}: cache hit`);
    else if (result.status === 'missing') logger.error(`${name}: not in the cache (frozen mode: nothing is generated)`);
    else if (this.options.mode === 'placeholder') {
      logger.warn(`${name}: PLACEHOLDER (not in the cache; placeholder mode); unset ${this.options.modeSource ?? 'the mode option'} to generate the real image`);
    } else {
      logger.warn(`${name}: PLACEHOLDER (not in the cache; no VENICE_API_KEY is set); set VENICE_API_KEY to generate the real image`);
    }
  }

  private async obtain(prepared: PreparedRequest, name: string): Promise<SharedResult> {
    // runs once per request key at a time: whatever is per file belongs in load()
    const hit = await this.entries.read(prepared.key);
    if (hit) {
      if (hit.origin === 'remote') this.options.logger.info(`${name}: restored from the shared cache`);
      return this.fromEntry(prepared, await this.withMetadata(hit, name), 'cached');
    }
    const mode = this.missMode;
    if (mode === 'placeholder' || mode === 'frozen') {
      // a frozen build fails at its end and shows nothing: a token drawing, not one of full size
      const images = await placeholderImages(this.options.placeholderDir, prepared.request, this.options.metadata && mode === 'placeholder', mode === 'frozen');
      return {
        key: prepared.key,
        seed: prepared.request.seed,
        status: mode === 'frozen' ? 'missing' : 'placeholder',
        images: images.map((image) => ({ ...image, digest: null })),
      };
    }
    if (mode === 'fail') {
      throw new ImagePromptError({
        code: 'MISSING_API_KEY',
        file: name,
        message: `this image is not in the cache (${this.cacheName()}) and no Venice API key is set`,
        hint: 'set VENICE_API_KEY (or the apiKey option) to generate it, restore the cache directory from CI or git, or choose placeholders on purpose with IMAGEPROMPT_MODE=placeholder',
      });
    }
    return this.queue.slot(() => this.generate(prepared, name));
  }

  private async generate(prepared: PreparedRequest, name: string): Promise<SharedResult> {
    const client = this.getClient(name, prepared.send?.provider ?? PROVIDER);
    const { key } = prepared;
    // a cache that cannot be written is found out before anything is paid for
    await this.store.checkWritable();
    const release = await this.store.lock(key, { holdMs: this.holdMs, onWait: (wait) => this.reportWait(name, key, wait) });
    try {
      const raced = await this.entries.read(key);
      if (raced) return this.fromEntry(prepared, await this.withMetadata(raced, name), 'cached');
      const recovered = await this.store.recover(key);
      if (recovered) {
        this.options.logger.info(`${name}: took the image paid for in an earlier run from ${this.store.rescueDir(key)}`);
        return this.fromEntry(prepared, await this.withMetadata(recovered, name), 'cached');
      }
      // another machine generating the same key: wait for its upload rather than pay again
      const theirs = await this.remote?.claim(key, (wait) =>
        this.options.logger.warn(`${name}: waiting ${Math.round(wait.waitedMs / 1000)} s for another machine generating key ${key.slice(0, 12)} to upload it to the shared cache`),
      );
      if (theirs) return this.fromEntry(prepared, await this.withMetadata(theirs, name), 'cached');
      const price = this.priceOf(prepared) ?? 0;
      const sink = new GenerationSink(this.store, key);
      const started = Date.now();
      const hooks: GenerateHooks = {
        onRetry: (notice) => {
          this.options.logger.warn(`${name}: attempt ${notice.attempt} failed (${notice.reason}); retrying in ${(notice.delayMs / 1000).toFixed(1)} s`);
        },
        beforeAttempt: () => {
          // never pay again while the cache cannot hold what was paid for
          if (sink.failure) throw cacheWriteError(sink.failure, this.store.dir, 'the image Venice sent was unusable, and no new one is asked for');
          this.ledger.reserve(name, price);
        },
        afterAttempt: (_attempt, charged) => this.ledger.settle(price, charged),
      };
      const { send } = prepared;
      const result = send ? await client.generateOpenAI(send.body, sink, hooks) : await client.generate(prepared.request, sink, hooks);
      const manifest: Omit<Manifest, 'outputs'> = {
        version: 1,
        key,
        provider: send?.provider ?? PROVIDER,
        request: prepared.request,
        ...(send ? { route: send.route, sent: send.body } : {}),
        seed: prepared.request.seed,
        seedSource: prepared.seedSource,
        response: { id: result.id, cfRay: result.cfRay, timing: result.timing },
        flags: { blurred: result.blurred, contentViolation: result.contentViolation },
        createdAt: new Date().toISOString(),
        durationMs: Date.now() - started,
      };
      const outputs: StagedOutput[] = result.images.map((image) => ({ staged: image.staged, format: image.format, width: image.width, height: image.height }));
      if (sink.failure) throw await this.rescue(manifest, outputs, sink.failure);
      // computed before the entry is committed (and uploaded), so that every later hit reads it
      if (this.options.metadata) {
        const metas = await this.computeMetadata(outputs.map((o) => ({ path: o.staged.tempPath, width: o.width, height: o.height })), name);
        outputs.forEach((o, i) => metas[i] && (o.meta = metas[i]));
      }
      let entry: CacheEntry;
      try {
        entry = await this.entries.commit(manifest, outputs);
      } catch (error) {
        if (error instanceof LocalWriteError) throw await this.rescue(manifest, outputs, error);
        throw error;
      }
      return this.fromEntry(prepared, entry, 'generated');
    } finally {
      await this.remote?.release(key);
      await release();
    }
  }

  /**
   * An entry with metadata for every image: as stored, or (for entries made before metadata, or
   * restored without it) computed now and written into the manifest once.
   */
  private async withMetadata(entry: CacheEntry, name: string): Promise<CacheEntry> {
    if (!this.options.metadata || entry.manifest.outputs.every((o) => o.meta)) return entry;
    const metas = await this.computeMetadata(
      entry.manifest.outputs.map((o, i) => (o.meta ? undefined : { path: entry.paths[i]!, width: o.width, height: o.height })),
      name,
    );
    if (metas.every((m) => m === undefined)) return entry;
    try {
      return { ...(await this.store.addMetadata(entry, metas)), ...(entry.origin ? { origin: entry.origin } : {}) };
    } catch (error) {
      this.options.logger.warn(`${name}: could not store the image metadata in the cache (${(error as Error).message}); it is computed again next time`);
      return { ...entry, manifest: { ...entry.manifest, outputs: entry.manifest.outputs.map((o, i) => (metas[i] ? { ...o, meta: metas[i] } : o)) } };
    }
  }

  /**
   * Metadata for each image given (undefined: skip); a failure only warns. One image at a time:
   * decoding a 4K image takes tens of megabytes, and variants come four at once.
   */
  private async computeMetadata(images: ({ path: string; width: number; height: number } | undefined)[], name: string): Promise<(ImageMetadata | undefined)[]> {
    const metas: (ImageMetadata | undefined)[] = [];
    for (const image of images) {
      if (!image) {
        metas.push(undefined);
        continue;
      }
      try {
        this.metadataComputed += 1;
        metas.push(await computeImageMetadata(image.path, image.width, image.height));
      } catch (error) {
        this.options.logger.warn(`${name}: could not compute the blur-up placeholder and colour (${(error as Error).message})`);
        metas.push(undefined);
      }
    }
    return metas;
  }

  /** Keeps a paid generation the cache could not store, and the error that says where it is. */
  private async rescue(manifest: Omit<Manifest, 'outputs'>, outputs: StagedOutput[], failure: LocalWriteError): Promise<ImagePromptError> {
    try {
      const kept = await this.store.rescue(manifest, outputs);
      const where = kept.length === 1 ? kept[0]! : `${this.store.rescueDir(manifest.key)} (${kept.length} images)`;
      return cacheWriteError(
        failure,
        this.store.dir,
        `the image Venice sent (and charged for) is kept at ${where}; the next build takes it from there instead of paying again, once the cache can be written`,
      );
    } catch (error) {
      await this.store.discard(outputs.map((o) => o.staged));
      return cacheWriteError(failure, this.store.dir, `the image Venice sent (and charged for) could not be kept elsewhere either (${(error as Error).message}), so it is lost`);
    }
  }

  /** Tells `prune` which key this build used for the file (see key-refs.ts); a failure only warns. */
  private async recordRef(file: string, prepared: PreparedPromptFile): Promise<void> {
    try {
      await this.refs.record(file, prepared.content, prepared.key);
    } catch (error) {
      if (this.refWarned) return;
      this.refWarned = true;
      this.options.logger.warn(`could not record which cache entries this build uses in ${this.refs.dir} (${(error as Error).message}); \`imageprompt prune\` may then not know them`);
    }
  }

  private reportWait(name: string, key: string, wait: LockWait): void {
    const lock = relative(this.options.root, wait.path);
    const holder = wait.owner
      ? `held by pid ${wait.owner.pid} on ${wait.owner.host} since ${new Date(wait.owner.since).toISOString()}; taken over if that process ends`
      : 'empty, left by a process killed while taking it; taken over within seconds';
    this.options.logger.warn(`${name}: waiting ${Math.round(wait.waitedMs / 1000)} s for another process generating key ${key.slice(0, 12)} (lock ${lock}, ${holder})`);
  }

  /**
   * When this engine will talk to Venice anyway (generate mode with a key), Venice's live catalog
   * (models and styles, kept for an hour beside the placeholders); otherwise, or when it cannot be
   * had, the bundled snapshot. No network call is made in frozen or placeholder mode or without a key.
   */
  private currentCatalog(): Promise<ModelCatalog> {
    if (this.explicitCatalog || this.missMode !== 'generate' || !(this.options.apiKey || this.options.siwx)) return Promise.resolve(this.catalog);
    this.liveCatalog ??= loadLiveCatalog(this.options.baseURL, join(this.options.placeholderDir, '..', 'catalog.json')).then((live) => {
      this.catalog = live ?? ModelCatalog.bundled();
      return this.catalog;
    });
    return this.liveCatalog;
  }

  /** The catalog price of a request in US dollars, or undefined when the catalog has none (or it goes to another provider). */
  priceOf(prepared: PreparedRequest): number | undefined {
    if (prepared.send && prepared.send.provider !== PROVIDER) return undefined;
    const model = this.catalog.get(prepared.request.model);
    return model ? requestPriceUsd(model, prepared.request) : undefined;
  }

  /** The client for a provider: Venice with its key or wallet sign-in, or a named provider with its own key. */
  private getClient(name: string, provider: string): VeniceClient {
    const existing = this.clients.get(provider);
    if (existing) return existing;
    const common = { timeoutMs: this.options.timeoutMs, retry: this.options.retry, acceptBlurred: this.options.acceptBlurred };
    let client: VeniceClient;
    if (provider === PROVIDER) {
      const { apiKey, siwx, baseURL } = this.options;
      if (!apiKey && !siwx) {
        throw new ImagePromptError({
          code: 'MISSING_API_KEY',
          file: name,
          message: 'generate mode needs a Venice API key, and none is set',
          hint: 'set VENICE_API_KEY (or the apiKey option), or VENICE_SIWX for an x402 wallet',
        });
      }
      client = new VeniceClient({ ...(siwx ? { siwx } : { apiKey }), baseURL, ...common });
    } else {
      const settings = this.options.providers[provider]!;
      if (!settings.apiKey) {
        throw new ImagePromptError({
          code: 'MISSING_API_KEY',
          file: name,
          message: `provider "${provider}" needs its key in ${settings.apiKeyEnv}, and that variable is not set`,
          hint: `set ${settings.apiKeyEnv}; each provider's key goes only to its own base URL`,
        });
      }
      client = new VeniceClient({ apiKey: settings.apiKey, baseURL: settings.baseURL, label: `provider "${provider}"`, ...common });
    }
    this.clients.set(provider, client);
    return client;
  }

  private fromEntry(prepared: PreparedRequest, entry: CacheEntry, status: 'cached' | 'generated'): SharedResult {
    return {
      key: prepared.key,
      seed: entry.manifest.seed,
      status,
      images: entry.manifest.outputs.map((output, i) => ({
        path: entry.paths[i]!,
        width: output.width,
        height: output.height,
        format: output.format,
        digest: output.digest,
        ...(this.options.metadata && output.meta ? { meta: output.meta } : {}),
      })),
    };
  }

  private cacheName(): string {
    return relative(this.options.root, this.options.cacheDir) || '.';
  }

  private display(file: string): string {
    const rel = relative(this.options.root, file);
    return rel.startsWith('..') ? file : rel;
  }
}
