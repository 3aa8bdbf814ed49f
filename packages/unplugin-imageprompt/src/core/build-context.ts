/**
 * What one plugin instance knows about the build it serves, in one object: the bundler, the project
 * root and `base` as the bundler sets them, whether this is a dev server or a build, the hit index,
 * and the engine. A hit this machine verified before is served from the index (`imageprompt/hits`)
 * without loading the engine; the engine (`imageprompt`, with its schemas and clients) is loaded on
 * the first prompt file the index cannot answer, made with the root and mode in force then.
 */
import type { ImagePromptEngine } from 'imageprompt';
import { Derivatives, HitIndex, consoleLogger, emptyStats, hitSettings, summarizeStats, type BuildStats, type HitRecord, type Logger } from 'imageprompt/hits';
import type { ResolvedOptions } from './options.js';

export class BuildContext {
  /** The project root: the option, else the bundler's (Vite's `root`, webpack's `context` …), else the working directory. */
  root: string;
  /** Vite's `base`, always ending in `/`. */
  base = '/';
  mode: 'dev' | 'build' = 'build';
  readonly logger: Logger;
  private loading: Promise<ImagePromptEngine> | undefined;
  private made: ImagePromptEngine | undefined;
  private index: { hits: HitIndex; frozen: boolean; derivativesDir: string } | undefined;
  private madeDerivatives: Derivatives | undefined;
  /** Prompt files served from the index since the last summary (one, however many imports ask for it). */
  private indexed = new Set<string>();
  private warned = new Set<string>();

  constructor(
    readonly options: ResolvedOptions,
    /** unplugin's name for the bundler: `vite`, `rollup`, `rolldown`, `webpack`, `rspack`, `esbuild`, `farm`. */
    readonly framework: string,
  ) {
    this.root = options.root ?? process.cwd();
    this.logger = options.engine.logger ?? consoleLogger;
  }

  /** Takes the bundler's root unless the `root` option was given. */
  useBundlerRoot(root: string | undefined): void {
    if (!this.options.root && root) this.root = root;
  }

  /**
   * The engine, loaded and made once, with the root and mode in force when it is first needed. Its
   * options and `imageprompt.config.json` are checked then: a mistake fails the first prompt file.
   */
  engine(): Promise<ImagePromptEngine> {
    this.loading ??= import('imageprompt').then(({ ImagePromptEngine }) => {
      const engine = new ImagePromptEngine({ ...this.options.engine, root: this.root, context: this.mode });
      this.made = engine;
      return engine;
    });
    return this.loading;
  }

  /** The engine if one was made (a build whose prompt files were all answered by the index has none). */
  get engineIfMade(): ImagePromptEngine | undefined {
    return this.made;
  }

  /**
   * The prompt file's images from the hit index, when this machine verified them before under the
   * same settings and nothing has changed since (never in frozen mode, which verifies every byte).
   * Said and counted as a hit, as the engine would.
   */
  indexedHit(file: string, name: string): HitRecord | undefined {
    const record = this.lookupHit(file);
    if (record) this.servedHit(name, record);
    return record;
  }

  /** The hit index's record for the prompt file, when it answers (see `indexedHit`), not yet said or counted. */
  lookupHit(file: string): HitRecord | undefined {
    return this.hitIndex().frozen ? undefined : this.hitIndex().hits.lookup(file);
  }

  /** Says and counts a hit served from the index (its warnings again, as the engine would). */
  servedHit(name: string, record: HitRecord): void {
    for (const warning of record.warnings) this.warnOnce(`${name}: ${warning}`);
    if (this.indexed.has(name)) return;
    this.indexed.add(name);
    this.logger.info(`${name}: cache hit`);
  }

  /** The prompt files the hit index has records for (in frozen mode none: it verifies every byte). */
  indexedFiles(): string[] {
    return this.hitIndex().frozen ? [] : this.hitIndex().hits.recordedFiles();
  }

  /**
   * At the end of a build served from the index alone: what the index learnt (stamps of prompt files
   * hashed again) is written, so the next build only stats them. A build that made the engine leaves
   * it to the engine's own index, which holds more.
   */
  async saveHitIndex(): Promise<void> {
    if (!this.made && this.index?.hits.unsaved) await this.index.hits.save();
  }

  private hitIndex(): { hits: HitIndex; frozen: boolean; derivativesDir: string } {
    if (!this.index) {
      const settings = hitSettings(this.root, { ...this.options.engine, root: this.root }, process.env);
      this.index = { hits: HitIndex.for(settings), frozen: settings.frozen, derivativesDir: settings.derivativesDir };
    }
    return this.index;
  }

  /** Where responsive derivatives are made and kept, for this root and settings. */
  get derivatives(): Derivatives {
    this.madeDerivatives ??= new Derivatives(this.hitIndex().derivativesDir);
    return this.madeDerivatives;
  }

  /** A warning said once per build context, however many modules meet it. */
  warnOnce(message: string): void {
    if (!this.warned.has(message)) this.logger.warn(message);
    this.warned.add(message);
  }

  /**
   * At the start of a build: the options and `imageprompt.config.json` are checked now, before any
   * module is loaded, by making the engine, unless an engine already ran with exactly these settings
   * on this machine (then the build may never need one).
   */
  async start(): Promise<void> {
    if (this.hitIndex().frozen || !this.hitIndex().hits.settingsKnown) await this.engine();
  }

  /** The build's counts since the last summary (the engine's and the index's), and its summary line when anything was served. */
  takeSummary(): { stats: BuildStats; line: string | undefined } {
    const stats = this.made?.takeStats() ?? emptyStats();
    stats.cached += this.indexed.size;
    this.indexed.clear();
    return { stats, line: Object.values(stats).some((n) => typeof n === 'number' && n > 0) ? summarizeStats(stats) : undefined };
  }

  /**
   * A miss in a dev server (Vite, Astro) or a watching webpack or Rspack (their dev servers) shows a
   * placeholder at once and never blocks a page.
   */
  get generatesInBackground(): boolean {
    return ['vite', 'webpack', 'rspack'].includes(this.framework) && this.mode === 'dev' && !this.options.waitInDev;
  }

  /**
   * A watching webpack or Rspack ends each compilation while images are still being made (each one
   * landing compiles again); a build, or a Vite dev server that closes, waits for them.
   */
  get endsWithoutWaiting(): boolean {
    return this.generatesInBackground && this.framework !== 'vite';
  }
}
