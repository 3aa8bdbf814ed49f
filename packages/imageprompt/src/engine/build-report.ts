/**
 * What a build did, for its output: one line per prompt file as it is served, counts per build for
 * the summary line, and the prompt files a frozen build found missing, which end it with one error.
 */
import { ImagePromptError } from '../errors/errors.js';
import type { Logger } from '../logger.js';

export type ImageStatus = 'cached' | 'generated' | 'placeholder' | 'missing';
/**
 * Counts per status; `restored` is the part of `cached` that came from the shared cache this run;
 * `walletBalanceUsd` the paying wallet's balance as Venice last gave it (`X-Balance-Remaining`).
 */
export type BuildStats = Record<ImageStatus | 'failed', number> & { restored: number; walletBalanceUsd?: string };

export interface MissingImage {
  file: string;
  key: string;
}

export const emptyStats = (): BuildStats => ({ cached: 0, generated: 0, placeholder: 0, missing: 0, failed: 0, restored: 0 });

/** A build's summary line: `4 images: 3 cached (1 restored from the shared cache), 1 generated, 0 failed`. */
export function summarizeStats(stats: BuildStats): string {
  const total = stats.cached + stats.generated + stats.placeholder + stats.missing + stats.failed;
  const parts = [`${stats.cached} cached${stats.restored ? ` (${stats.restored} restored from the shared cache)` : ''}`, `${stats.generated} generated`];
  if (stats.placeholder) parts.push(`${stats.placeholder} placeholders`);
  if (stats.missing) parts.push(`${stats.missing} missing`);
  parts.push(`${stats.failed} failed`);
  const balance = stats.walletBalanceUsd ? `; the wallet has $${stats.walletBalanceUsd} left on Venice` : '';
  return `${total} image${total === 1 ? '' : 's'}: ${parts.join(', ')}${balance}`;
}

export class BuildReport {
  private stats = emptyStats();
  private missing = new Map<string, MissingImage>();
  /** What was said since the last summary: a prompt file imported twice (say, with and without a query) is one image. */
  private said = new Set<string>();

  constructor(
    private readonly logger: Logger,
    /** The mode's source when placeholders were chosen on purpose (`IMAGEPROMPT_MODE`, the option). */
    private readonly placeholderChosenBy: string | undefined,
  ) {}

  /**
   * A prompt file served: counted, and said in one line (a hit says whether it came from the shared
   * cache), once per summary however many imports ask for it.
   */
  served(name: string, key: string, status: ImageStatus, ms: number, restored = false): void {
    const once = `${status}\0${name}\0${key}`;
    if (this.said.has(once)) return;
    this.said.add(once);
    this.stats[status] += 1;
    if (restored) this.stats.restored += 1;
    if (status === 'missing') this.missing.set(name, { file: name, key });
    if (status === 'generated') this.logger.info(`${name}: generated in ${(ms / 1000).toFixed(1)} s`);
    else if (restored) this.logger.info(`${name}: restored from the shared cache`);
    else if (status === 'cached') this.logger.info(`${name}: cache hit`);
    else if (status === 'missing') this.logger.error(`${name}: not in the cache (frozen mode: nothing is generated)`);
    else if (this.placeholderChosenBy) this.logger.warn(`${name}: PLACEHOLDER (not in the cache; placeholder mode); unset ${this.placeholderChosenBy} to generate the real image`);
    else this.logger.warn(`${name}: PLACEHOLDER (not in the cache; no VENICE_API_KEY is set); set VENICE_API_KEY to generate the real image`);
  }

  /** A prompt file that failed: counted, and its first line said. */
  failed(name: string, message: string): void {
    this.stats.failed += 1;
    this.logger.error(`${name}: failed: ${message.startsWith(name) ? message.slice(name.length).replace(/^[,:]\s*/, '') : message}`);
  }

  /** Counts since the last call, for a per-build summary. */
  takeStats(): BuildStats {
    const stats = this.stats;
    this.stats = emptyStats();
    this.said.clear();
    return stats;
  }

  /** Prompt files a frozen build found missing since the last call. */
  takeMissing(): MissingImage[] {
    const missing = [...this.missing.values()];
    this.missing.clear();
    return missing;
  }

  summary(stats: BuildStats): string {
    return summarizeStats(stats);
  }

  /** The error a frozen build ends with: every missing prompt file, its key, and how to fill the cache. */
  frozenError(missing: MissingImage[], cacheName: string): ImagePromptError {
    const lines = missing.map((m) => `\n  ${m.file} (key ${m.key})`).join('');
    return new ImagePromptError({
      code: 'FROZEN_MISS',
      message: `${missing.length} image${missing.length === 1 ? ' is' : 's are'} not in the cache (${cacheName}) and frozen mode generates nothing:${lines}`,
      hint: 'fill the cache with `npx imageprompt generate` (VENICE_API_KEY set), or build once in generate mode, then commit or save the cache',
    });
  }
}
