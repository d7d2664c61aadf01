import assert from "node:assert/strict";
import type { RateLimiter } from "../../src/limits/rate_limit.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/**
 * The behaviour every {@link RateLimiter} adapter must have. The tests run sanitized unless
 * `sanitizers` turns that off.
 */
export function runRateLimitContract(
  name: string,
  factory: () => Promise<{ limiter: RateLimiter; peer?: RateLimiter; close: () => Promise<void> }>,
  sanitizers: Sanitizers = sanitized,
): void {
  const test = (title: string, fn: (l: RateLimiter, peer?: RateLimiter) => Promise<void>) =>
    Deno.test({
      name: `${name} rate limiter: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { limiter, peer, close } = await factory();
        try {
          await fn(limiter, peer);
        } finally {
          await close();
        }
      },
    });

  test("allows the capacity, then refuses with a retry time", async (l) => {
    const key = crypto.randomUUID();
    const rule = { capacity: 3, windowSeconds: 60 };
    for (let i = 3; i > 0; i--) {
      const d = await l.take(key, rule);
      assert.equal(d.allowed, true);
      assert.equal(d.remaining, i - 1);
    }
    const refused = await l.take(key, rule);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 20, "one token per 20 s");
    assert.equal((await l.take(key, rule, 0)).allowed, false, "peeking sees the empty bucket");
  });

  test("peeking (cost 0) and refused takes do not consume", async (l) => {
    const key = crypto.randomUUID();
    const rule = { capacity: 2, windowSeconds: 3600 };
    for (let i = 0; i < 5; i++) assert.equal((await l.take(key, rule, 0)).allowed, true);
    assert.equal((await l.take(key, rule, 5)).allowed, false, "too costly");
    assert.equal((await l.take(key, rule)).remaining, 1);
  });

  test("buckets are independent per key and refill over time", async (l) => {
    const rule = { capacity: 1, windowSeconds: 0.2 };
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    assert.equal((await l.take(a, rule)).allowed, true);
    assert.equal((await l.take(a, rule)).allowed, false);
    assert.equal((await l.take(b, rule)).allowed, true, "another key is untouched");
    let refilled = false;
    for (let i = 0; i < 40 && !refilled; i++) {
      await new Promise((r) => setTimeout(r, 25));
      refilled = (await l.take(a, rule, 0)).allowed;
    }
    assert.ok(refilled, "a token comes back after the window");
  });

  test("concurrent takes never exceed the capacity, across instances too", async (l, peer) => {
    const key = crypto.randomUUID();
    const rule = { capacity: 10, windowSeconds: 3600 };
    const all = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 && peer ? peer : l).take(key, rule)),
    );
    assert.equal(all.filter((d) => d.allowed).length, 10);
  });

  test("reset() forgets a bucket, here and on other instances", async (l, peer) => {
    const key = crypto.randomUUID();
    const rule = { capacity: 2, windowSeconds: 3600 };
    await l.take(key, rule, 2);
    assert.equal((await (peer ?? l).take(key, rule, 0)).allowed, false);
    await l.reset(key);
    assert.equal((await (peer ?? l).take(key, rule)).remaining, 1, "full again");
    await l.reset(crypto.randomUUID());
  });
}
