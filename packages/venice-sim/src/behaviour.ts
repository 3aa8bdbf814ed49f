/**
 * What a test can script: faults for the next N requests, latency, balance and limits.
 * Each fault is consumed by the next image request (`/image/generate` or `/images/generations`).
 */

export type Fault =
  | { kind: 'status'; status: 500 | 503 }
  | { kind: 'overload'; retryAfterSeconds: number }
  | { kind: 'drop' }
  | { kind: 'truncated-base64' }
  | { kind: 'invalid-base64' }
  | { kind: 'wrong-format' }
  | { kind: 'wrong-content-type' }
  | { kind: 'hang' };

/** Image requests held before they are answered, until the test releases them. */
export interface Hold {
  /** How many requests are waiting now. */
  waiting: number;
  released: Promise<void>;
  release(): void;
}

export interface Behaviour {
  latencyMs: number;
  /** Set while image requests are held (`hold: true`), until `release: true`. */
  hold?: Hold;
  /** Requests per minute per key and model; 0 turns the limit off. */
  rpm: number;
  balanceUsd: number;
  faults: Fault[];
}

/** Parse the control body accepted by `POST /__sim/control` and the `script()` method. */
export interface ControlRequest {
  latencyMs?: number;
  rpm?: number;
  balanceUsd?: number;
  failNext?: { count: number; status?: 500 | 503 };
  overloadNext?: { count: number; retryAfterSeconds?: number };
  dropNext?: { count: number };
  corruptNext?: { count: number; kind: 'truncated-base64' | 'invalid-base64' | 'wrong-format' | 'wrong-content-type' };
  hangNext?: { count: number };
  clearFaults?: boolean;
  /** Forget rate-limit windows and the error budget. */
  resetLimits?: boolean;
  clearRequests?: boolean;
  /**
   * Hold every image request, once it has passed its checks, until `release`: a test can then see
   * what happens while Venice has the requests and has answered none of them, by order, not time.
   */
  hold?: boolean;
  /** Answer every held request (and stop holding). */
  release?: boolean;
  /** Sets x402 wallets' balances in USD, by address. */
  walletBalances?: Record<string, number>;
}

export function applyControl(behaviour: Behaviour, control: ControlRequest): void {
  if (control.clearFaults) behaviour.faults.length = 0;
  if (control.release && behaviour.hold) {
    behaviour.hold.release();
    delete behaviour.hold;
  }
  if (control.hold && !behaviour.hold) {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    behaviour.hold = { waiting: 0, released, release };
  }
  if (control.latencyMs !== undefined) behaviour.latencyMs = control.latencyMs;
  if (control.rpm !== undefined) behaviour.rpm = control.rpm;
  if (control.balanceUsd !== undefined) behaviour.balanceUsd = control.balanceUsd;
  const push = (count: number, fault: Fault) => {
    for (let i = 0; i < count; i++) behaviour.faults.push(fault);
  };
  if (control.failNext) push(control.failNext.count, { kind: 'status', status: control.failNext.status ?? 500 });
  if (control.overloadNext) {
    push(control.overloadNext.count, { kind: 'overload', retryAfterSeconds: control.overloadNext.retryAfterSeconds ?? 30 });
  }
  if (control.dropNext) push(control.dropNext.count, { kind: 'drop' });
  if (control.corruptNext) push(control.corruptNext.count, { kind: control.corruptNext.kind });
  if (control.hangNext) push(control.hangNext.count, { kind: 'hang' });
}

/** Waits while requests are held; counts the request as waiting meanwhile. */
export async function waitWhileHeld(behaviour: Behaviour): Promise<void> {
  const hold = behaviour.hold;
  if (!hold) return;
  hold.waiting += 1;
  await hold.released;
  hold.waiting -= 1;
}
