/** Per key and model request limits (reference §8): a requests-per-minute window and the error budget. */

export interface RateWindow {
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the window resets. */
  resetAt: number;
}

/** What the headers report as the limit when the simulator's limit is switched off. */
export const UNLIMITED = 1_000_000;

export class RateLimiter {
  private windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly now: () => number) {}

  /** Take `cost` requests from the window of `scope`; returns whether they fit and the window after. */
  take(scope: string, configured: number, cost: number): { allowed: boolean; window: RateWindow } {
    const limit = configured > 0 ? configured : UNLIMITED;
    const now = this.now();
    let window = this.windows.get(scope);
    if (!window || now >= window.start + 60_000) {
      window = { start: now, used: 0 };
      this.windows.set(scope, window);
    }
    const allowed = window.used + cost <= limit;
    if (allowed) window.used += cost;
    return {
      allowed,
      window: { limit, remaining: Math.max(0, limit - window.used), resetAt: window.start + 60_000 },
    };
  }

  reset(): void {
    this.windows.clear();
  }

  peek(scope: string, configured: number): RateWindow {
    const limit = configured > 0 ? configured : UNLIMITED;
    const now = this.now();
    const window = this.windows.get(scope);
    if (!window || now >= window.start + 60_000) return { limit, remaining: limit, resetAt: now + 60_000 };
    return { limit, remaining: Math.max(0, limit - window.used), resetAt: window.start + 60_000 };
  }
}

/** More than `threshold` non-429 4xx answers in `windowMs` blocks the scope for `blockMs`. */
export class ErrorBudget {
  private failures = new Map<string, number[]>();
  private blockedUntil = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly threshold = 50,
    private readonly windowMs = 30_000,
    private readonly blockMs = 30_000,
  ) {}

  reset(): void {
    this.failures.clear();
    this.blockedUntil.clear();
  }

  isBlocked(scope: string): boolean {
    return (this.blockedUntil.get(scope) ?? 0) > this.now();
  }

  recordFailure(scope: string): void {
    const now = this.now();
    const recent = (this.failures.get(scope) ?? []).filter((t) => t > now - this.windowMs);
    recent.push(now);
    this.failures.set(scope, recent);
    if (recent.length > this.threshold) {
      this.blockedUntil.set(scope, now + this.blockMs);
      this.failures.set(scope, []);
    }
  }
}
