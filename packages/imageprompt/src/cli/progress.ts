/**
 * Progress for `imageprompt generate`: one line redrawn in place on a terminal, plain lines in CI
 * and pipes.
 */
export interface ProgressCounts {
  total: number;
  done: number;
  inFlight: number;
  failed: number;
  /** Bytes moved so far, for transfers: shown with the rate. */
  bytes?: number;
}

export class Progress {
  private readonly started = Date.now();
  private readonly live: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.live = Boolean(out.isTTY) && !env.CI;
  }

  /** A finished file; on a terminal the line is redrawn, elsewhere a line is printed. */
  update(counts: ProgressCounts, line?: string): void {
    const seconds = (Date.now() - this.started) / 1000;
    const moved = counts.bytes === undefined ? '' : `, ${megabytes(counts.bytes)} at ${megabytes(counts.bytes / Math.max(seconds, 0.001))}/s`;
    const status = `[${counts.done}/${counts.total}] ${counts.inFlight} in flight, ${counts.failed} failed${moved}, ${this.elapsed()}`;
    if (this.live) {
      this.out.write(`\r\x1b[2K${line ? `${line}\n` : ''}${status}`);
    } else if (line) {
      this.out.write(`${status}  ${line}\n`);
    }
  }

  finish(): void {
    if (this.live) this.out.write('\n');
  }

  elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)} s`;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
