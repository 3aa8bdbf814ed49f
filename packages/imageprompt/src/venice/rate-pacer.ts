/**
 * Keeps requests within Venice's per-model request budget using the `x-ratelimit-*` headers of
 * earlier answers: once a model's window is spent, the next request waits for its reset rather
 * than collecting a 429.
 */
import { parseResetAt } from '../http/retry-policy.js';

interface Window {
  remaining: number;
  resetAt: number;
}

export class RatePacer {
  private windows = new Map<string, Window>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Waits until `cost` requests fit in the model's known window, then reserves them. */
  async acquire(model: string, cost: number): Promise<void> {
    for (;;) {
      const window = this.windows.get(model);
      const now = this.now();
      if (!window || now >= window.resetAt) {
        this.windows.delete(model);
        return;
      }
      if (window.remaining >= cost) {
        window.remaining -= cost;
        return;
      }
      await this.sleep(window.resetAt - now + 100);
    }
  }

  observe(model: string, headers: Headers): void {
    const remaining = Number(headers.get('x-ratelimit-remaining-requests'));
    const resetAt = parseResetAt(headers.get('x-ratelimit-reset-requests'), this.now());
    if (!headers.has('x-ratelimit-remaining-requests') || !Number.isFinite(remaining) || resetAt === undefined) return;
    // Answers to concurrent requests arrive in any order: within one window, the lowest count seen
    // (or our own, which already holds back what is in flight) is the true one.
    const current = this.windows.get(model);
    if (current && Math.abs(current.resetAt - resetAt) < 1000) current.remaining = Math.min(current.remaining, remaining);
    else this.windows.set(model, { remaining, resetAt });
  }
}
