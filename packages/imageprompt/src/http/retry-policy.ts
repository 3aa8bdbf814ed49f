/**
 * When to try a Venice request again, and how long to wait first (reference §8): 429 waits for
 * `Retry-After` or the rate-limit reset, 500/503 and network faults back off exponentially with
 * jitter, and every other 4xx is final.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. @default 5 */
  maxAttempts: number;
  /** First backoff step. @default 500 */
  baseDelayMs: number;
  /** Longest backoff step. @default 8000 */
  maxBackoffMs: number;
  /** A server-requested wait longer than this fails instead. @default 120000 */
  maxWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxBackoffMs: 8000, maxWaitMs: 120_000 };

export const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Exponential backoff with jitter: attempt 1 waits about base, attempt 2 about 2×base … */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxBackoffMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step * (0.5 + random() / 2));
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * `x-ratelimit-reset-requests` as an absolute epoch time in ms. Sources disagree on its unit, so
 * 13 digits are read as epoch milliseconds, 10 as epoch seconds, and small numbers as seconds from now.
 */
export function parseResetAt(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (n >= 1e12) return n;
  if (n >= 1e9) return n * 1000;
  return now + n * 1000;
}

/** The wait before retrying a 429, from its headers and message. */
export function rateLimitDelay(headers: Headers, message: string, now: number, random: () => number = Math.random): number {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  const jitter = Math.round(250 + random() * 500);
  if (retryAfter !== undefined) return retryAfter + jitter;
  if (/too many failed attempts/i.test(message)) return 30_000 + jitter;
  const resetAt = parseResetAt(headers.get('x-ratelimit-reset-requests'), now);
  if (resetAt !== undefined && resetAt > now) return resetAt - now + jitter;
  return 1000 + jitter;
}

/**
 * The longest one generation can take under `policy` with `timeoutMs` per attempt: every attempt
 * timing out, every wait between them at its longest, and a minute for the disk. A lock held for a
 * generation is not presumed abandoned before this.
 */
export function worstCaseDurationMs(policy: RetryPolicy, timeoutMs: number): number {
  const longestWait = Math.max(policy.maxBackoffMs, policy.maxWaitMs);
  return policy.maxAttempts * timeoutMs + (policy.maxAttempts - 1) * longestWait + 60_000;
}
