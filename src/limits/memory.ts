import { type RateDecision, type RateLimiter, type RateRule, refill } from "./rate_limit.ts";

/**
 * The in-process {@link RateLimiter}: buckets in a map, swept of full ones now and then so memory is
 * bounded by the keys active within a window.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly kind = "memory" as const;
  #buckets = new Map<string, { tokens: number; at: number; full: number }>();
  #lastSweep = Date.now();

  constructor(private readonly clock: () => number = Date.now) {}

  take(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    const now = this.clock();
    this.#sweep(now);
    const state = this.#buckets.get(key) ?? { tokens: rule.capacity, at: now, full: 0 };
    const { tokens, decision } = refill(state, rule, now, cost);
    const fullAt = now + (rule.capacity - tokens) / (rule.capacity / rule.windowSeconds) * 1000;
    this.#buckets.set(key, { tokens, at: now, full: fullAt });
    return Promise.resolve(decision);
  }

  reset(key: string): Promise<void> {
    this.#buckets.delete(key);
    return Promise.resolve();
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [key, b] of this.#buckets) if (b.full <= now) this.#buckets.delete(key);
  }

  close(): Promise<void> {
    this.#buckets.clear();
    return Promise.resolve();
  }
}
