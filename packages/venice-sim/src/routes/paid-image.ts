/**
 * What the image-taking routes share once a request is valid: the gate (lockout, scripted faults,
 * rate limit, balance), the scripted latency and hold, the image made, the payer charged, and the
 * binary answer Venice sends (raw bytes, no JSON), with the scripted corruptions acted out on it.
 */
import { createHash } from 'node:crypto';
import type { ApiError } from '../api-errors.js';
import { waitWhileHeld } from '../behaviour.js';
import { gate } from '../gate.js';
import { payerOf } from '../payers.js';
import { errorReply, type Reply } from '../replies.js';
import { baseHeaders, inferenceHeaders, type SimState } from '../sim-state.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request refused after validation: counted toward the error budget as Venice counts it. */
export function refused(state: SimState, scope: string, error: ApiError): Reply {
  if (error.countsTowardBudget) state.budget.recordFailure(scope);
  return errorReply(error, baseHeaders());
}

export async function paidImage(
  state: SimState,
  caller: string,
  { scope, priceUsd, make, headers = {} }: { scope: string; priceUsd: number; make: () => Promise<{ bytes: Buffer; contentType: string }>; headers?: Record<string, string> },
): Promise<Reply> {
  const { behaviour } = state;
  const payer = payerOf(state, caller);
  const balanceBefore = payer.balance();
  const gated = gate(state, scope, 1, priceUsd, payer);
  if (gated.reply) return gated.reply;
  if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
  await waitWhileHeld(behaviour);
  if (gated.fault?.kind === 'hang') await sleep(10 * 60_000);
  const made = await make();
  payer.charge(priceUsd);
  let { bytes, contentType } = made;
  const fault = gated.fault;
  if (fault?.kind === 'wrong-content-type') contentType = 'text/html; charset=utf-8';
  if (fault?.kind === 'truncated-base64' || fault?.kind === 'invalid-base64') bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
  return {
    status: 200,
    headers: { ...baseHeaders(), ...inferenceHeaders(gated.window, balanceBefore), ...payer.paidHeaders(), ...headers, 'content-type': contentType },
    body: bytes,
    compressible: false,
    drop: fault?.kind === 'drop',
    servedImages: [createHash('sha256').update(bytes).digest('hex')],
  };
}
