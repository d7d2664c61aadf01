import assert from "node:assert/strict";
import { RedisDeadlineError, withDeadlines } from "../../src/redis/client.ts";
import type { RedisClient } from "../../src/redis/client.ts";
import { createLogger } from "../../src/observability/logger.ts";

/** A stand-in client whose `get` answers only when the test says so, counting what was sent. */
function fakeRedis() {
  const sent: string[] = [];
  let answer: ((v: string) => void) | null = null;
  let hang = true;
  const builder = {
    queued: [] as string[],
    incr(key: string) {
      this.queued.push(`incr ${key}`);
      return this;
    },
    exec() {
      sent.push(`exec ${this.queued.join(",")}`);
      return Promise.resolve(this.queued.map(() => 1));
    },
  };
  const client = {
    get(key: string): Promise<string> {
      sent.push(`get ${key}`);
      if (!hang) return Promise.resolve(`v:${key}`);
      return new Promise((resolve) => answer = resolve);
    },
    multi() {
      builder.queued = [];
      return builder;
    },
  };
  return {
    client: client as unknown as RedisClient,
    sent,
    heal() {
      hang = false;
      answer?.("late");
    },
  };
}

const logger = createLogger({ level: "error", write: () => {} });

Deno.test("redis deadlines: a hung command fails at its deadline, then nothing is sent for a second", async () => {
  const fake = fakeRedis();
  const redis = withDeadlines(fake.client, 50, logger, "test") as any;
  await assert.rejects(redis.get("a"), RedisDeadlineError);
  await assert.rejects(redis.get("b"), /breaker open/);
  await assert.rejects(redis.multi().incr("c").exec(), /breaker open/);
  assert.deepEqual(
    fake.sent,
    ["get a"],
    "nothing reaches a Redis that hangs while the breaker is open",
  );
  fake.heal();
});

Deno.test("redis deadlines: after the open second one probe goes out; its answer closes the breaker", async () => {
  const fake = fakeRedis();
  const redis = withDeadlines(fake.client, 50, logger, "test") as any;
  await assert.rejects(redis.get("a"), RedisDeadlineError);
  await new Promise((r) => setTimeout(r, 1_050));
  const probe = redis.get("probe"); // still hanging: the probe
  await assert.rejects(redis.get("other"), /breaker open/, "others fail at once while it is out");
  await assert.rejects(probe, RedisDeadlineError);
  assert.deepEqual(fake.sent, ["get a", "get probe"]);
  await new Promise((r) => setTimeout(r, 1_050));
  fake.heal();
  assert.equal(await redis.get("probe2"), "v:probe2");
  assert.equal(await redis.get("x"), "v:x", "closed again");
  assert.deepEqual(await redis.multi().incr("k").incr("l").exec(), [1, 1]);
  assert.deepEqual(fake.sent.slice(-3), ["get probe2", "get x", "exec incr k,incr l"]);
});
