/**
 * The engine as the plugin and the CLI use it, and the one place its parts are wired: from a prompt
 * file path to image files, from the cache or generated on a miss (`generation.ts`, never twice for
 * the same request; a chain of steps on images one request at a time, `chain-runner.ts`), or, where
 * the mode says so, a placeholder or a recorded miss. Metadata, the
 * clients per provider and the build's report are parts of their own (`entry-metadata.ts`,
 * `provider-clients.ts`, `build-report.ts`).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-file.js';
import type { CacheEntry, EntryPlace, EntryStore, LocalCache } from '../cache/cache-port.js';
import { CacheStore } from '../cache/cache-store.js';
import { HitIndex, hitSettings, servedFromRecord } from '../cache/hit-index.js';
import { KeyRefs, contentDigest } from '../cache/key-refs.js';
import { loadLiveCatalog } from '../catalog/live-catalog.js';
import { ModelCatalog } from '../catalog/model-catalog.js';
import { requestPriceUsd } from '../catalog/pricing.js';
import { canPayAnyProvider, canPayVenice, resolveEngineOptions, type EngineOptions, type Mode, type ResolvedEngineOptions } from '../config/engine-options.js';
import { ImagePromptError } from '../errors/errors.js';
import { expectedSize } from '../catalog/expected-size.js';
import { DEFAULT_RETRY_POLICY, worstCaseDurationMs } from '../http/retry-policy.js';
import type { ImageMetadata } from '../images/image-metadata.js';
import { placeholderImages } from '../images/placeholder-image.js';
import { prepareRequest, type PreparedRequest } from '../prompt/normalise-request.js';
import { prepareOpenAIRequest } from '../prompt/openai-route.js';
import { readPromptFile, type AnyPromptFile } from '../prompt/prompt-file.js';
import type { ImageFormat } from '../prompt/prompt-schema.js';
import type { ResponsiveSpec } from '../images/responsive-spec.js';
import { PROVIDER } from '../prompt/request-key.js';
import { chainAfterGeneration, prepareSourceFile } from '../steps/prepare-chain.js';
import { finalView, runChain, walkChain, type Chained, type ChainStep, type Located, type WalkedLink } from './chain-runner.js';
import { SOURCE_APIS } from '../steps/step-schema.js';
import { RemoteCache } from '../remote/remote-cache.js';
import { RemoteLayer } from '../remote/remote-layer.js';
import { SpendLedger } from '../venice/spend-ledger.js';
import { DEFAULT_BASE_URL } from '../venice/venice-client.js';
import { BuildReport, type BuildStats, type ImageStatus, type MissingImage } from './build-report.js';
import { EntryMetadata } from './entry-metadata.js';
import { Generation } from './generation.js';
import { GenerationQueue } from './generation-queue.js';
import { ProviderClients } from './provider-clients.js';

export type { BuildStats, ImageStatus, MissingImage } from './build-report.js';
export type { ChainStep, WalkedLink } from './chain-runner.js';

/** Venice's own API host: where a simulator's drawings are never served. */
const VENICE_HOST = new URL(DEFAULT_BASE_URL).host;

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

export interface ImageResult {
  file: string;
  key: string;
  alt: string | undefined;
  /** The derived images the prompt file asks for (`responsive`), made from these by the plugin. */
  responsive: ResponsiveSpec | undefined;
  seed: number;
  /** `placeholder` and `missing` (frozen mode) images are local drawings, not Venice output. */
  status: ImageStatus;
  images: ResolvedImage[];
  /** A chain's links, the head request first (absent for a single request): each one's key, size and status. */
  steps?: ChainStep[];
  /** The committed images the prompt file starts from (`"api": "edit"` …): a bundler watches them. */
  inputs?: string[];
}

/** A prepared request with the digest of the prompt file it came from. */
export type PreparedPromptFile = PreparedRequest & { content: string };

/** What prompt files with the same request share. */
type SharedResult = Omit<ImageResult, 'file' | 'alt' | 'responsive' | 'inputs'> & { restored?: true };


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
  readonly refs: KeyRefs;
  private refWarned = false;
  private readonly queue: GenerationQueue;
  private readonly metadata: EntryMetadata;
  private readonly generation: Generation;
  private readonly report: BuildReport;
  private readonly clients: ProviderClients;
  /** What this machine verified before: a hit served with one read and a few stats (see cache/hit-index.ts). */
  private readonly hits: HitIndex;

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
    this.metadata = new EntryMetadata(this.store, this.options.logger, this.options.metadata);
    this.clients = new ProviderClients(this.options);
    this.report = new BuildReport(this.options.logger, this.options.mode === 'placeholder' ? (this.options.modeSource ?? 'the mode option') : undefined);
    this.generation = new Generation({
      options: this.options,
      store: this.store,
      entries: this.entries,
      remote: this.remote,
      clients: this.clients,
      ledger: this.ledger,
      metadata: this.metadata,
      priceOf: (prepared) => this.priceOf(prepared),
      servable: (entry, name) => this.servable(entry, name),
      holdMs: worstCaseDurationMs({ ...DEFAULT_RETRY_POLICY, ...this.options.retry }, this.options.timeoutMs),
      enterSlot: () => this.queue.enter(),
    });
    // the settings as given: the plugin serves hits from the same index before it loads the engine
    const settingsNow = () => hitSettings(this.options.root, { ...options, root: this.options.root }, process.env);
    const hitSettingsGiven = settingsNow();
    this.hits = HitIndex.for(hitSettingsGiven, settingsNow);
    this.hitsFrozen = hitSettingsGiven.frozen;
  }

  /**
   * Where the request's entry is, if this engine would serve it: a simulator's drawing found here by
   * an engine at Venice's own base URL is no entry to it (plan counts it as to be generated).
   */
  async placeOf(key: string, name: string, verified?: { file: string; prepared: PreparedPromptFile }): Promise<EntryPlace | undefined> {
    const found = await this.locate(key, name);
    // found whole here: remembered as a load would, so that the next look at the file is a few stats
    if (found?.entry && verified) this.rememberHit(verified.file, verified.prepared, { ...this.fromEntry(verified.prepared, found.entry, 'cached'), alt: verified.prepared.alt, responsive: verified.prepared.responsive });
    return found?.place;
  }

  /**
   * Where a request's entry is, with its first image, reading it once: here, verified whole (and
   * servable, unless `drawings`: a simulator's drawing counts as there); or only in the shared cache,
   * as its checked manifest records it (no image fetched).
   */
  private async locate(key: string, name: string, drawings = false): Promise<(Located & { entry?: CacheEntry }) | undefined> {
    const entry = await this.store.read(key);
    if (entry) {
      if (!drawings && !this.servable(entry, name)) return undefined;
      const output = entry.manifest.outputs[0]!;
      return { place: 'local', entry, image: { path: entry.paths[0]!, digest: output.digest, width: output.width, height: output.height } };
    }
    if (!this.remote || (await this.remote.has(key)) !== 'remote') return undefined;
    const output = await this.remote.recordedOutput(key);
    // the next step's key needs the digest and size only: the images stay in the shared cache
    return output && { place: 'remote', image: { path: '', digest: output.digest, width: output.width, height: output.height } };
  }

  /**
   * The request key of a prompt file this machine verified whole before, under these settings, from
   * the hit index (its warnings said again); undefined when it must be looked at in full.
   */
  indexedKey(file: string): string | undefined {
    const indexed = this.usesHitIndex ? this.hits.lookup(file) : undefined;
    for (const warning of indexed?.warnings ?? []) this.warnOnce(`${this.display(file)}: ${warning}`);
    return indexed?.key;
  }

  /** What a hit leaves in the hit index; an image still without metadata (its computation failed) is not remembered, so it is tried again. */
  private rememberHit(file: string, prepared: PreparedPromptFile, result: Pick<ImageResult, 'key' | 'alt' | 'responsive' | 'seed' | 'images' | 'steps'>): void {
    if (!this.usesHitIndex || (this.options.metadata && !result.images.every((image) => image.meta))) return;
    this.hits.remember(file, {
      key: result.key,
      alt: result.alt ?? null,
      responsive: result.responsive ?? null,
      seed: result.seed,
      warnings: prepared.warnings,
      ...(result.steps ? { steps: result.steps } : {}),
      // the committed images it starts from, as they were when hashed: a changed one is a full look again
      ...(prepared.chain?.sources.length ? { inputs: prepared.chain.sources.map((s) => ({ path: s.path, stamp: s.stamp })) } : {}),
      images: result.images.map((image) => ({ path: image.path, format: image.format, width: image.width, height: image.height, digest: image.digest!, ...(image.meta ? { meta: image.meta } : {}) })),
    });
  }

  /** Whether any answer this run came from a simulator (it said so): then what was "spent" was not paid. */
  get answeredBySimulator(): boolean {
    return this.clients.simulatorAnswers > 0;
  }

  /**
   * Whether a cached entry may be served by this engine: a simulator's drawing never is where the
   * base URL is Venice's own (a real build), so that it is never taken for a paid image; pointed at
   * any other base URL (a simulator, a proxy, a dead port in an offline test) it may be.
   */
  private servable(entry: CacheEntry, name: string): boolean {
    const origin = entry.manifest.origin;
    if (!origin?.simulator || new URL(this.options.baseURL).host !== VENICE_HOST) return true;
    this.warnOnce(`${name}: the cached image is a drawing of the simulator at ${origin.host}, not a paid Venice image; it is not served from Venice's base URL, and is generated again`);
    return false;
  }

  /** Whether hits may be served from the hit index: not in frozen mode, which verifies every byte. */
  private get usesHitIndex(): boolean {
    return !this.hitsFrozen && this.options.mode !== 'frozen' && !this.explicitCatalog;
  }

  private readonly hitsFrozen: boolean;

  /** Warnings about prompt files already given this run: each is said once, however often a file is prepared. */
  private warned = new Set<string>();

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.logger.warn(message);
  }

  /** Hits served from the hit index this run (no prompt file parsed, no byte hashed). */
  indexedHits = 0;

  /** Images whose metadata this engine computed (a cache hit with stored metadata computes none). */
  get metadataComputed(): number {
    return this.metadata.computed;
  }

  /** US dollars this engine has spent at catalog prices: every attempt Venice charged for, retries included. */
  get spentUsd(): number {
    return this.ledger.spent;
  }

  /** What a miss does here: the mode chosen, or by key (and dev server or build) when none was. */
  get missMode(): Mode | 'fail' {
    if (this.options.mode) return this.options.mode;
    if (canPayAnyProvider(this.options)) return 'generate';
    return this.options.context === 'dev' ? 'placeholder' : 'fail';
  }

  /** Reads and checks a prompt file and works out its request and key; no network, no cache. */
  async prepare(file: string): Promise<PreparedPromptFile> {
    return this.preparePrompt(await readPromptFile(file, this.display(file)), this.display(file), { path: file });
  }

  /**
   * `prepare` for a prompt file already parsed (from git history, say); `name` is what messages call
   * it, `path` where it is (committed images it names are relative to it; by default the root + name).
   */
  async preparePrompt(prompt: AnyPromptFile, name: string, { quiet = false, path }: { quiet?: boolean; path?: string } = {}): Promise<PreparedPromptFile> {
    const catalog = await this.currentCatalog();
    // committed images a prompt file names are relative to it, and stay inside the root
    const place = { path: path ?? join(this.options.root, name), root: this.options.root, name };
    let prepared: PreparedRequest;
    if ('api' in prompt && (SOURCE_APIS as string[]).includes(prompt.api)) {
      prepared = prepareSourceFile(prompt as Parameters<typeof prepareSourceFile>[0], catalog, place);
    } else {
      prepared =
        'api' in prompt
          ? prepareOpenAIRequest(prompt as Parameters<typeof prepareOpenAIRequest>[0], this.options.defaults, catalog, name, Object.keys(this.options.providers))
          : prepareRequest(prompt, this.options.defaults, catalog, name);
      if (prompt.then) {
        // the generation's size is exact for Venice's pixel models; another provider's is its own
        const model = prepared.send && prepared.send.provider !== PROVIDER ? undefined : catalog.get(prepared.request.model);
        prepared = chainAfterGeneration(prepared, prompt.then, catalog, place, model !== undefined && ModelCatalog.isPixelModel(model));
      }
    }
    if (!quiet) for (const warning of prepared.warnings) this.warnOnce(`${name}: ${warning}`);
    return { ...prepared, content: contentDigest(prompt) };
  }

  /** The digest of a prompt file's content (its canonical JSON), as key refs record it; throws if it does not parse. */
  async contentOf(file: string): Promise<string> {
    return contentDigest(await readPromptFile(file, this.display(file)));
  }

  /** The images for a prompt file. */
  async load(file: string): Promise<ImageResult> {
    const name = this.display(file);
    const indexed = this.usesHitIndex ? this.hits.lookup(file) : undefined;
    if (indexed) {
      for (const warning of indexed.warnings) this.warnOnce(`${name}: ${warning}`);
      this.indexedHits += 1;
      this.report.served(name, indexed.key, 'cached', 0);
      return servedFromRecord(file, indexed);
    }
    try {
      const prepared = await this.prepare(file);
      const started = Date.now();
      // shared by every prompt file with this request; the file, its alt and responsive are each file's own
      const shared = prepared.chain ? await this.resolveChain(prepared as Chained, name) : await this.queue.run(prepared.key, () => this.obtain(prepared, name));
      const { restored, ...own } = shared;
      const sources = prepared.chain?.sources ?? [];
      const result: ImageResult = { ...own, file, alt: prepared.alt, responsive: prepared.responsive, ...(sources.length ? { inputs: sources.map((s) => s.path) } : {}) };
      if (result.status === 'cached' || result.status === 'generated') {
        await this.recordRef(file, prepared, result.steps);
        this.rememberHit(file, prepared, result);
      }
      this.report.served(name, result.key, result.status, Date.now() - started, restored);
      return result;
    } catch (error) {
      const failure = error instanceof ImagePromptError ? error.withFile(name) : error;
      this.report.failed(name, (failure as Error).message.split('\n')[0]!);
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
    // a hit this machine verified before: served from the hit index, nothing else read
    if (this.usesHitIndex && this.hits.lookup(file)) return { result: await this.load(file) };
    // quiet: load prepares again and says the warnings once
    const prepared = await readPromptFile(file, name)
      .then((prompt) => this.preparePrompt(prompt, name, { quiet: true }))
      .catch(() => undefined);
    // an invalid file fails in load, with load's message and count
    if (!prepared || this.missMode !== 'generate') return { result: await this.load(file) };
    const cached = prepared.chain ? (await this.walk(prepared, name)).every((link) => link.place) : await this.entries.has(prepared.key);
    if (cached) return { result: await this.load(file) };
    // the placeholder first (of the final step's size): the page is waiting for it, while the image takes seconds anyway
    const images = await placeholderImages(this.options.placeholderDir, finalView(prepared), this.options.metadata);
    const generated = this.load(file);
    // the caller takes the outcome; a rejection nobody awaited yet must not end the process
    generated.catch(() => undefined);
    this.options.logger.info(`${name}: generating in the background; a placeholder is shown until it lands`);
    return {
      result: { key: prepared.key, seed: prepared.request.seed, status: 'placeholder', images: images.map((image) => ({ ...image, digest: null })), file, alt: prepared.alt, responsive: prepared.responsive },
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
    await this.hits.save();
  }

  /** Counts since the last call, for a per-build summary. */
  /** The paying wallet's address and its credit on Venice, when a wallet pays (for `plan`; a failure is thrown). */
  async walletBalance(): Promise<{ address: string; balanceUsd: number } | undefined> {
    const wallet = this.options.wallet;
    if (!wallet) return undefined;
    const address = await wallet.walletAddress();
    const { balanceUsd } = await this.clients.get(PROVIDER, 'the wallet').walletBalance(address);
    return { address, balanceUsd };
  }

  /** Who paid Venice with a wallet, and its balance as Venice last gave it: for a command's summary. */
  get walletSummary(): string | undefined {
    const wallet = this.options.wallet;
    if (!wallet?.signedAny) return undefined;
    const balance = this.clients.walletBalanceUsd;
    return `paid with ${wallet.label}${balance ? `, which has $${balance} left on Venice` : ''}`;
  }

  takeStats(): BuildStats {
    const stats = this.report.takeStats();
    const balance = this.clients.walletBalanceUsd;
    return balance ? { ...stats, walletBalanceUsd: balance } : stats;
  }

  /** Prompt files a frozen build found missing since the last call. */
  takeMissing(): MissingImage[] {
    return this.report.takeMissing();
  }

  summary(stats: BuildStats): string {
    return this.report.summary(stats);
  }

  /** The error a frozen build ends with: every missing prompt file, its key, and how to fill the cache. */
  frozenError(missing: MissingImage[]): ImagePromptError {
    return this.report.frozenError(missing, this.cacheName());
  }

  private async obtain(prepared: PreparedRequest, name: string): Promise<SharedResult> {
    // runs once per request key at a time: whatever is per file belongs in load()
    const hit = await this.entries.read(prepared.key);
    if (hit && this.servable(hit, name)) {
      const result = this.fromEntry(prepared, await this.metadata.complete(hit, name), 'cached');
      return hit.origin === 'remote' ? { ...result, restored: true } : result;
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
    const { entry, status } = await this.generation.run(prepared, name);
    return this.fromEntry(prepared, entry, status);
  }

  /** A chain, step by step (see chain-runner.ts): every request through the queue, as a single one goes. */
  private resolveChain(prepared: Chained, name: string): Promise<SharedResult & { steps: ChainStep[] }> {
    return runChain<SharedResult>(prepared, name, {
      obtain: (request) => this.queue.run(request.key, () => this.obtain(request, name)),
      catalog: () => this.catalog,
      warn: (message) => this.warnOnce(message),
      placeholder: async (request, status) =>
        (await placeholderImages(this.options.placeholderDir, request, this.options.metadata && status === 'placeholder', status === 'missing')).map((image) => ({ ...image, digest: null })),
    });
  }

  /**
   * A chain's links through the cache, paying nothing (for plan, check, prune and the dev server):
   * each keyed as far as cached images allow, with where its entry is and its price.
   */
  async walk(prepared: PreparedPromptFile, name: string, { drawings = false } = {}): Promise<WalkedLink[]> {
    // `drawings`: a simulator's drawing counts as there (the review shows them, marked), wherever the base URL points
    return walkChain(prepared, name, { locate: (key) => this.locate(key, name, drawings), catalog: () => this.catalog, priceOf: (request) => this.priceOf(request) });
  }

  /** Tells `prune` which keys this build used for the file, a chain's every step's (see key-refs.ts); a failure only warns. */
  private async recordRef(file: string, prepared: PreparedPromptFile, steps?: ChainStep[]): Promise<void> {
    try {
      await this.refs.record(file, prepared.content, prepared.key, steps?.flatMap((s) => (s.key ? [s.key] : [])));
    } catch (error) {
      if (this.refWarned) return;
      this.refWarned = true;
      this.options.logger.warn(`could not record which cache entries this build uses in ${this.refs.dir} (${(error as Error).message}); \`imageprompt prune\` may then not know them`);
    }
  }

  /**
   * When this engine will talk to Venice anyway (generate mode with a key), Venice's live catalog
   * (models and styles, kept for an hour beside the placeholders); otherwise, or when it cannot be
   * had, the bundled snapshot. No network call is made in frozen or placeholder mode or without a key.
   */
  private currentCatalog(): Promise<ModelCatalog> {
    if (this.explicitCatalog || this.missMode !== 'generate' || !canPayVenice(this.options)) return Promise.resolve(this.catalog);
    this.liveCatalog ??= loadLiveCatalog(this.options.baseURL, join(this.options.placeholderDir, '..', 'catalog.json')).then((live) => {
      this.catalog = live ?? ModelCatalog.bundled();
      return this.catalog;
    });
    return this.liveCatalog;
  }

  /** The catalog price of a request in US dollars, or undefined when the catalog has none (or it goes to another provider). */
  priceOf(prepared: PreparedRequest): number | undefined {
    if (prepared.step) return prepared.step.priceUsd;
    if (prepared.send && prepared.send.provider !== PROVIDER) return undefined;
    const model = this.catalog.get(prepared.request.model);
    return model ? requestPriceUsd(model, prepared.request) : undefined;
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
