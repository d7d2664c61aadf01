/**
 * A token bucket: up to `capacity` tokens, refilled continuously at `capacity / windowSeconds` per
 * second. "10 failed logins per 15 minutes" is `{ capacity: 10, windowSeconds: 900 }`.
 */
export interface RateRule {
  capacity: number;
  windowSeconds: number;
}

/** The state of a bucket after a {@link RateLimiter.take}. */
export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Seconds until one token is available again (0 when some are left). */
  retryAfterSeconds: number;
}

/**
 * Rate limits as atomic token buckets, shared by all instances when the adapter is shared (Redis).
 * `take(key, rule, 0)` only looks; a take that is refused leaves the bucket unchanged.
 */
export interface RateLimiter {
  readonly kind: "memory" | "redis";
  take(key: string, rule: RateRule, cost?: number): Promise<RateDecision>;
  /** Forgets a bucket (it starts full again), e.g. one named after an erased account's username. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Refills a bucket to `now` and tries to take `cost` tokens; shared by the adapters' arithmetic. */
export function refill(
  state: { tokens: number; at: number },
  rule: RateRule,
  now: number,
  cost: number,
): { tokens: number; decision: RateDecision } {
  const rate = rule.capacity / rule.windowSeconds;
  const tokens = Math.min(rule.capacity, state.tokens + Math.max(0, now - state.at) / 1000 * rate);
  const allowed = tokens >= cost && (cost > 0 || tokens >= 1);
  const left = allowed ? tokens - cost : tokens;
  const retryAfterSeconds = left >= 1 ? 0 : Math.ceil((1 - left) / rate);
  return {
    tokens: left,
    decision: { allowed, remaining: Math.floor(left), retryAfterSeconds },
  };
}
