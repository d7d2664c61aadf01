import assert from "node:assert/strict";
import { RedisReadCache } from "../../src/cache/redis.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createRedisClient } from "../../src/redis/client.ts";
import { sharedRedis, startRedis } from "../support/redis.ts";
import { eventually } from "../support/wait.ts";
import { runCacheContract } from "./cache_contract.ts";
import { sanitized } from "../support/sanitizers.ts";

const logger = createLogger({ level: "error", write: () => {} });
const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

/** The first answer of `op` once it stops failing (the client reconnecting after a restart). */
async function firstAnswer<T>(op: () => Promise<T>): Promise<T> {
  let answer: { value: T } | undefined;
  await eventually(
    "the client reconnected",
    async () => {
      try {
        answer = { value: await op() };
        return true;
      } catch {
        return false;
      }
    },
    Boolean,
    { timeoutMs: 20_000, everyMs: 10 },
  );
  return answer!.value;
}

async function connect(url: string) {
  const client = createRedisClient(url, logger, "test", { offlineQueue: false });
  await client.connect();
  return client;
}

runCacheContract("redis", async () => {
  const prefix = `test:${crypto.randomUUID()}:`;
  const [a, b] = await Promise.all([connect(redis.url), connect(redis.url)]);
  return {
    cache: new RedisReadCache(a, prefix),
    peer: new RedisReadCache(b, prefix),
    close: async () => void await Promise.all([a.close(), b.close()]),
  };
}, true);

Deno.test({
  name: "redis read cache: while Redis is down every call fails at once; after it is back, a " +
    "lookup never serves what was cached before it went away",
  ...sanitized,
  fn: async () => {
    const own = await startRedis();
    const client = await connect(own.url);
    try {
      const cache = new RedisReadCache(client, "t:");
      await cache.write("k", "before", (await cache.read("k", ["a"])).versions, 60_000);
      const pending = await cache.read("k2", ["a"]);
      await own.stop();
      const started = Date.now();
      await assert.rejects(cache.read("k", ["a"]));
      await assert.rejects(cache.bump(["a"]));
      await assert.rejects(cache.write("k", "x", pending.versions, 60_000));
      assert.ok(Date.now() - started < 1000, "no waiting on a dead server");
      await own.start();
      assert.equal((await firstAnswer(() => cache.read("k", ["a"]))).value, null);
      await cache.write("k2", "from before the restart", pending.versions, 60_000);
      assert.equal((await cache.read("k2", ["a"])).value, null, "a pre-restart stamp is void");
    } finally {
      await client.close().catch(() => client.destroy());
      await own.close();
    }
  },
});

Deno.test({
  name: "redis read cache: a Redis restarted from an older snapshot (bumps lost) serves nothing " +
    "cached before it went back in time",
  ...sanitized,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-redis-" });
    const own = await startRedis({ dir });
    const client = await connect(own.url);
    const other = await connect(own.url);
    try {
      const cache = new RedisReadCache(client, "t:");
      await cache.write("k", "old page", (await cache.read("k", ["c"])).versions, 60_000);
      await client.sendCommand(["SAVE"]);
      // The change is committed and bumped, but the bump never reaches the snapshot.
      await cache.bump(["c"]);
      assert.equal((await cache.read("k", ["c"])).value, null);
      await own.stop();
      await own.start();
      const raw = await connect(own.url);
      const stamp = await raw.hGet("t:cache:e:k", "s");
      assert.ok(stamp, "the snapshot brought the old entry and its old versions back");
      await raw.close();
      // Each client reconnects on its own schedule; neither may serve the entry once it is back.
      for (const c of [cache, new RedisReadCache(other, "t:")]) {
        assert.equal((await firstAnswer(() => c.read("k", ["c"]))).value, null);
      }
    } finally {
      await client.close().catch(() => client.destroy());
      await other.close().catch(() => other.destroy());
      await own.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
