/**
 * The engine as the plugin and the CLI use it: from a prompt file path to cached image files,
 * generating on a miss, never twice for the same request.
 */
import { relative } from 'node:path';
import { CacheStore, type CacheEntry } from './cache-store.js';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './engine-options.js';
import { ImagePromptError } from './errors.js';
import { GenerationQueue } from './generation-queue.js';
import { ModelCatalog } from './model-catalog.js';
import { prepareRequest, type PreparedRequest } from './normalise-request.js';
import { readPromptFile } from './prompt-file.js';
import { PROVIDER } from './request-key.js';
import { VeniceClient } from './venice-client.js';
import type { ImageFormat } from './prompt-schema.js';

export interface ResolvedImage {
  /** Absolute path of the cached image file. */
  path: string;
  width: number;
  height: number;
  format: ImageFormat;
  digest: string;
}

export interface ImageResult {
  file: string;
  key: string;
  alt: string | undefined;
  seed: number;
  status: 'cached' | 'generated';
  images: ResolvedImage[];
}

export interface BuildStats {
  cached: number;
  generated: number;
  failed: number;
}

export class ImagePromptEngine {
  readonly options: ResolvedEngineOptions;
  readonly store: CacheStore;
  private readonly catalog = ModelCatalog.bundled();
  private readonly queue: GenerationQueue;
  private client: VeniceClient | undefined;
  private stats: BuildStats = { cached: 0, generated: 0, failed: 0 };

  constructor(options: EngineOptions = {}) {
    this.options = resolveEngineOptions(options);
    this.store = new CacheStore(this.options.cacheDir, this.options.logger);
    this.queue = new GenerationQueue(this.options.concurrency);
  }

  /** Reads and checks a prompt file and works out its request and key; no network, no cache. */
  async prepare(file: string): Promise<PreparedRequest> {
    const prompt = await readPromptFile(file);
    const prepared = prepareRequest(prompt, this.options.defaults, this.catalog, this.display(file));
    for (const warning of prepared.warnings) this.options.logger.warn(`${this.display(file)}: ${warning}`);
    return prepared;
  }

  /** The images for a prompt file: from the cache, or generated and cached. */
  async load(file: string): Promise<ImageResult> {
    const name = this.display(file);
    try {
      const prepared = await this.prepare(file);
      const started = Date.now();
      const { entry, generated } = await this.queue.run(prepared.key, () => this.obtain(prepared, name));
      const result = this.toResult(file, prepared, entry, generated ? 'generated' : 'cached');
      this.stats[result.status] += 1;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      this.options.logger.info(generated ? `${name}: generated in ${seconds} s` : `${name}: cache hit`);
      return result;
    } catch (error) {
      this.stats.failed += 1;
      const failure = error instanceof ImagePromptError ? error.withFile(name) : error;
      const message = (failure as Error).message.split('\n')[0]!;
      this.options.logger.error(`${name}: failed: ${message.startsWith(name) ? message.slice(name.length).replace(/^[,:]\s*/, '') : message}`);
      throw failure;
    }
  }

  /** Counts since the last call, for a per-build summary. */
  takeStats(): BuildStats {
    const stats = this.stats;
    this.stats = { cached: 0, generated: 0, failed: 0 };
    return stats;
  }

  summary(stats: BuildStats): string {
    const total = stats.cached + stats.generated + stats.failed;
    return `${total} image${total === 1 ? '' : 's'}: ${stats.cached} cached, ${stats.generated} generated, ${stats.failed} failed`;
  }

  private async obtain(prepared: PreparedRequest, name: string): Promise<{ entry: CacheEntry; generated: boolean }> {
    const hit = await this.store.read(prepared.key);
    if (hit) return { entry: hit, generated: false };
    const client = this.getClient(name);
    const release = await this.store.lock(prepared.key);
    try {
      const raced = await this.store.read(prepared.key);
      if (raced) return { entry: raced, generated: false };
      const started = Date.now();
      const result = await client.generate(prepared.request, this.store, (notice) => {
        this.options.logger.warn(`${name}: attempt ${notice.attempt} failed (${notice.reason}); retrying in ${(notice.delayMs / 1000).toFixed(1)} s`);
      });
      const entry = await this.store.commit(
        {
          version: 1,
          key: prepared.key,
          provider: PROVIDER,
          request: prepared.request,
          seed: prepared.request.seed,
          seedSource: prepared.seedSource,
          response: { id: result.id, cfRay: result.cfRay, timing: result.timing },
          flags: { blurred: result.blurred, contentViolation: result.contentViolation },
          createdAt: new Date().toISOString(),
          durationMs: Date.now() - started,
        },
        result.images.map((image) => ({ staged: image.staged, format: image.format, width: image.width, height: image.height })),
      );
      return { entry, generated: true };
    } finally {
      await release();
    }
  }

  private getClient(name: string): VeniceClient {
    const { apiKey, baseURL } = this.options;
    if (!apiKey) {
      throw new ImagePromptError({
        code: 'MISSING_API_KEY',
        file: name,
        message: `this image is not in the cache (${relative(this.options.root, this.options.cacheDir) || '.'}) and no Venice API key is set`,
        hint: 'set VENICE_API_KEY (or the apiKey option) to generate it, or restore the cache directory from CI or git',
      });
    }
    this.client ??= new VeniceClient({
      apiKey,
      baseURL,
      timeoutMs: this.options.timeoutMs,
      retry: this.options.retry,
      acceptBlurred: this.options.acceptBlurred,
    });
    return this.client;
  }

  private toResult(file: string, prepared: PreparedRequest, entry: CacheEntry, status: ImageResult['status']): ImageResult {
    return {
      file,
      key: prepared.key,
      alt: prepared.alt,
      seed: entry.manifest.seed,
      status,
      images: entry.manifest.outputs.map((output, i) => ({
        path: entry.paths[i]!,
        width: output.width,
        height: output.height,
        format: output.format,
        digest: output.digest,
      })),
    };
  }

  private display(file: string): string {
    const rel = relative(this.options.root, file);
    return rel.startsWith('..') ? file : rel;
  }
}
