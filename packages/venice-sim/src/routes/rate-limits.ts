/** `GET /api_keys/rate_limits`: the caller's tier, balance and per-model limits. */
import { json, type Reply } from '../replies.js';
import { baseHeaders, type SimState } from '../sim-state.js';

export function handleRateLimits(state: SimState): Reply {
  const rateLimits = state.catalog
    .filter((m) => m.type === 'image')
    .map((m) => ({ apiModelId: m.id, rateLimits: [{ type: 'RPM', amount: state.behaviour.rpm }] }));
  return json(
    200,
    {
      data: {
        accessPermitted: true,
        apiTier: { id: 'paid', isCharged: true },
        balances: { USD: state.behaviour.balanceUsd, DIEM: 0 },
        keyExpiration: null,
        nextEpochBegins: new Date(Date.now() + 86_400_000).toISOString(),
        rateLimits,
      },
    },
    baseHeaders(),
  );
}
