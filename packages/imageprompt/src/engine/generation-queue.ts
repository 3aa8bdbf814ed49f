/**
 * Runs a task only once while the same key is in flight (two prompt files with the same request, or
 * the client and SSR passes of one build, share one call), and lets at most `concurrency` tasks hold
 * a slot at once (calls to Venice). Cache lookups need no slot: only generation waits for one.
 */
export class GenerationQueue {
  private active = 0;
  private waiting: (() => void)[] = [];
  private inFlight = new Map<string, Promise<unknown>>();

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a whole number of 1 or more');
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing as Promise<T>;
    const promise = task().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Resolves once every task now in flight has settled, however it ended. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Runs `task` once fewer than `concurrency` slotted tasks are running. */
  async slot<T>(task: () => Promise<T>): Promise<T> {
    const leave = await this.enter();
    try {
      return await task();
    } finally {
      leave();
    }
  }

  /**
   * Takes a slot once one is free; resolves to the function that gives it back (calling it again
   * does nothing), for work that holds a slot for only part of its course.
   */
  async enter(): Promise<() => void> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}
