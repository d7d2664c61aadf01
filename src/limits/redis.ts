import type { RedisClient } from "../redis/client.ts";
import { RedisScript } from "../redis/script.ts";
import type { RateDecision, RateLimiter, RateRule } from "./rate_limit.ts";

// One atomic token bucket per key, as a hash {t: tokens, a: last refill ms} that expires once full.
// Time comes from the Redis server, so instances with skewed clocks agree. A refused or peeking take
// (cost 0) writes nothing.
const BUCKET = new RedisScript(`
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rate = capacity / window
local state = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) / 1000 * rate)
local allowed = 0
if (cost > 0 and tokens >= cost) or (cost == 0 and tokens >= 1) then allowed = 1 end
local left = tokens
if allowed == 1 and cost > 0 then
  left = tokens - cost
  redis.call('HSET', KEYS[1], 't', tostring(left), 'a', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - left) / rate * 1000) + 1000)
end
local retry = 0
if left < 1 then retry = math.ceil((1 - left) / rate) end
return {allowed, math.floor(left), retry}
`);

/**
 * The Redis {@link RateLimiter}: an atomic token bucket per key (one Lua script), shared by every
 * instance. When Redis is unreachable `take` rejects; callers decide whether that fails open
 * (messaging) or closed (login, registration).
 */
export class RedisRateLimiter implements RateLimiter {
  readonly kind = "redis" as const;

  constructor(private readonly client: RedisClient, private readonly prefix: string) {}

  async take(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    const [allowed, remaining, retry] = await BUCKET.run<[number, number, number]>(
      this.client,
      [`${this.prefix}rl:${key}`],
      [rule.capacity, rule.windowSeconds, cost],
    );
    return { allowed: allowed === 1, remaining, retryAfterSeconds: retry };
  }

  async reset(key: string): Promise<void> {
    await this.client.del(`${this.prefix}rl:${key}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
