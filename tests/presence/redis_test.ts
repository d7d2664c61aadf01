import assert from "node:assert/strict";
import { createLogger } from "../../src/observability/logger.ts";
import { RedisPresence } from "../../src/presence/redis.ts";
import { createRedisClient } from "../../src/redis/client.ts";
import { sharedRedis } from "../support/redis.ts";
import { runPresenceContract } from "./presence_contract.ts";
import { sanitized } from "../support/sanitizers.ts";

const logger = createLogger({ level: "error", write: () => {} });
const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

async function clients(prefix: string, ttlMs: number) {
  const a = createRedisClient(redis.url, logger, "test", { offlineQueue: false });
  const b = createRedisClient(redis.url, logger, "test", { offlineQueue: false });
  await Promise.all([a.connect(), b.connect()]);
  return {
    registry: new RedisPresence(a, prefix, ttlMs),
    peer: new RedisPresence(b, prefix, ttlMs),
    close: async () => void await Promise.all([a.close(), b.close()]),
  };
}

runPresenceContract("redis", () => clients(`test:${crypto.randomUUID()}:`, 60_000), true);

Deno.test({
  name:
    "redis presence: sockets of a vanished instance expire and their user is reported offline once",
  ...sanitized,
  fn: async () => {
    const { registry, peer, close } = await clients(`test:${crypto.randomUUID()}:`, 300);
    try {
      const gone = crypto.randomUUID();
      const stays = crypto.randomUUID();
      await registry.connect(gone, "x1");
      await registry.connect(gone, "x2");
      await peer.connect(stays, "y1");
      const before = Date.now();
      // The peer keeps heartbeating its socket; the first instance "dies" and stops.
      let expired: Awaited<ReturnType<typeof registry.expired>> = [];
      for (let i = 0; i < 100 && expired.length === 0; i++) {
        await peer.heartbeat([{ userId: stays, connectionId: "y1" }]);
        expired = await peer.expired();
        if (expired.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(expired.map((e) => e.userId), [gone], "reported once, not per socket");
      assert.ok(Date.parse(expired[0].lastSeenAt) >= before - 1000);
      assert.deepEqual(await registry.expired(), [], "and to exactly one instance");
      assert.deepEqual(await peer.online([gone, stays]), new Set([stays]));
    } finally {
      await close();
    }
  },
});
