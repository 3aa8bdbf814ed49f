/**
 * The shared cache's breaker: every remote operation runs here, a few at a time, each within one
 * deadline for the whole of it (headers and body). A cache is worth asking only while it answers
 * quickly: the first fault that shows it is not answering (a timeout, a refused connection, a cut
 * download), or the first answer that shows it misconfigured (a bucket that does not exist, unknown
 * credentials, the wrong region), sets it aside for the rest of the run after one warning, and every
 * operation still queued gives up at once without being sent.
 *
 * A store that answers but fails the one request is different. S3 says to retry its 500
 * (InternalError) and 503 (SlowDown), and a busy store fails a request now and then while it serves
 * the next (s3rver fails a PUT whose folder another client's DELETE has just emptied). So a 429 or a
 * 503 is waited out, with backoff, up to the retry policy's attempts, and any other 5xx is tried
 * again up to FAILED_ANSWER_ATTEMPTS times in all; only a store that keeps failing is set aside.
 * Every operation sent twice is safe to repeat: reads, blob writes (named by their digest), removes,
 * and conditional creates, whose callers take a "present" after a retry for what it may be, their own
 * earlier attempt (see RemoteCache.lease).
 */
import { LocalWriteError } from '../cache/atomic-file.js';
import { BodyTooLarge } from '../http/bounded-body.js';
import { GenerationQueue } from '../engine/generation-queue.js';
import { backoffDelay, type RetryPolicy } from '../http/retry-policy.js';
import type { Logger } from '../logger.js';
import { RemoteError } from './remote-backend.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Attempts in all for one operation the store answered with a 5xx other than 503. */
export const FAILED_ANSWER_ATTEMPTS = 3;

/** Thrown by an operation for a problem of what it read, not of the remote answering: passes the breaker untouched. */
export class EntryProblem extends Error {}

export class OutageBreaker {
  private down: string | undefined;
  private readonly slots: GenerationQueue;

  constructor(
    private readonly label: string,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy,
    private readonly timeoutMs: number,
    concurrency: number,
  ) {
    this.slots = new GenerationQueue(concurrency);
  }

  /** False once the remote was set aside this run. */
  get available(): boolean {
    return this.down === undefined;
  }

  /** Runs one operation in a slot, within the deadline; see the file's comment for what a fault does. */
  run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.down) return Promise.reject(new RemoteError(this.down, false));
    return this.slots.slot(async () => {
      for (let attempt = 1; ; attempt++) {
        // operations queued behind the one that found the remote down do not try it again
        if (this.down) throw new RemoteError(this.down, false);
        try {
          return await task(AbortSignal.timeout(this.timeoutMs));
        } catch (error) {
          // the local disk, or what was read (too large, damaged): not the remote failing to answer
          if (error instanceof LocalWriteError || error instanceof EntryProblem || error instanceof BodyTooLarge) throw error;
          const failure = asRemoteError(error);
          if (failure.misconfigured) {
            this.setAside(failure.message, 'misconfigured');
            throw failure;
          }
          if (!failure.retryable) throw failure;
          if (attempt < attemptsFor(failure.status, this.retry)) {
            await sleep(backoffDelay(attempt, this.retry));
            continue;
          }
          this.setAside(failure.message);
          throw failure;
        }
      }
    });
  }

  private setAside(reason: string, why: 'silent' | 'misconfigured' = 'silent'): void {
    if (this.down) return;
    this.down = reason;
    const what = why === 'misconfigured' ? `is misconfigured: ${reason}` : `is not answering (${reason})`;
    this.logger.warn(`the shared cache at ${this.label} ${what}; it is set aside for the rest of this run, which goes on with the local cache only`);
  }
}

/** How many attempts a failure allows in all: 1 for a fault that shows the store is not answering. */
function attemptsFor(status: number | undefined, retry: RetryPolicy): number {
  if (status === 429 || status === 503) return retry.maxAttempts;
  if (status !== undefined && status >= 500) return Math.min(FAILED_ANSWER_ATTEMPTS, retry.maxAttempts);
  return 1;
}

function asRemoteError(error: unknown): RemoteError {
  if (error instanceof RemoteError) return error;
  const name = (error as Error)?.name;
  // the deadline for the whole operation fell while its body was still being read
  if (name === 'TimeoutError' || name === 'AbortError') return new RemoteError('no whole answer in time', true);
  return new RemoteError((error as Error).message, true);
}
