import assert from "node:assert/strict";
import { RedisBroker } from "../../src/broker/redis.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { sharedRedis, startRedis } from "../support/redis.ts";
import { Inbox, runBrokerContract } from "./broker_contract.ts";

const logger = createLogger({ level: "error", write: () => {} });
const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

runBrokerContract("redis", async () => {
  const prefix = `test:${crypto.randomUUID()}:`;
  const a = await RedisBroker.connect(redis.url, logger, prefix);
  const b = await RedisBroker.connect(redis.url, logger, prefix);
  return { a, b, close: async () => void await Promise.all([a.close(), b.close()]) };
});

Deno.test({
  name: "redis broker: survives a Redis restart, reports down/up, and resubscribes",
  // node-redis may leave a reconnect timer (RedisSocket#connect) running after close().
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const own = await startRedis();
    const a = await RedisBroker.connect(own.url, logger);
    const b = await RedisBroker.connect(own.url, logger);
    try {
      const inbox = new Inbox();
      await b.subscribe("c:restart", inbox.push);
      const states: boolean[] = [];
      const back = Promise.withResolvers<void>();
      b.onStatus((up) => {
        states.push(up);
        if (up) back.resolve();
      });
      await own.stop();
      // While Redis is away a publish fails fast instead of hanging.
      await assert.rejects(a.publish("c:restart", "lost"));
      await own.start();
      await back.promise;
      // Wait until the publisher is back too, then the resubscribed handler receives.
      for (let i = 0; i < 200; i++) {
        try {
          await a.ping();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await a.publish("c:restart", "after");
      await inbox.waitFor(1, 10_000);
      assert.deepEqual(inbox.messages, ["after"]);
      assert.equal(states[0], false);
      assert.equal(states.at(-1), true);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await own.close();
    }
  },
});
