/** The checks every image request passes before inference: lockout, scripted faults, rate limit, balance. */
import { MESSAGES } from './api-errors.js';
import type { Payer } from './payers.js';
import type { Fault } from './behaviour.js';
import type { RateWindow } from './limits.js';
import { errorReply, json, type Reply } from './replies.js';
import { baseHeaders, inferenceHeaders, type SimState } from './sim-state.js';

export interface Gated {
  /** Set when the request is answered here and goes no further. */
  reply?: Reply;
  window: RateWindow;
  /** A scripted fault that the route itself acts out (a dropped or corrupted answer). */
  fault?: Fault;
}

export function gate(state: SimState, scope: string, cost: number, priceUsd: number, payer: Payer): Gated {
  const { behaviour, limiter, budget } = state;
  const base = baseHeaders();
  const headersFor = (window: RateWindow) => ({ ...base, ...inferenceHeaders(window, payer.balance()) });
  if (budget.isBlocked(scope)) {
    const window = limiter.peek(scope, behaviour.rpm);
    return { window, reply: json(429, { error: MESSAGES.lockedOut }, headersFor(window)) };
  }
  const fault = behaviour.faults.shift();
  if (fault?.kind === 'status') {
    const window = limiter.peek(scope, behaviour.rpm);
    return { window, reply: json(fault.status, { error: fault.status === 503 ? MESSAGES.atCapacity : MESSAGES.inferenceFailed }, headersFor(window)) };
  }
  if (fault?.kind === 'overload') {
    const window = limiter.peek(scope, behaviour.rpm);
    return { window, reply: json(429, { error: MESSAGES.overloaded }, { ...headersFor(window), 'retry-after': String(fault.retryAfterSeconds) }) };
  }
  const { allowed, window } = limiter.take(scope, behaviour.rpm, cost);
  if (!allowed) return { window, reply: json(429, { error: MESSAGES.rateLimited }, { ...headersFor(window), 'x-ratelimit-type': 'api_key' }) };
  const unpaid = payer.refuse(priceUsd);
  if (unpaid) return { window, reply: errorReply(unpaid, headersFor(window)) };
  return { window, fault };
}
