import { RedisRateLimiter } from "../../src/limits/redis.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createRedisClient } from "../../src/redis/client.ts";
import { sharedRedis } from "../support/redis.ts";
import { runRateLimitContract } from "./rate_limit_contract.ts";

const logger = createLogger({ level: "error", write: () => {} });
const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

runRateLimitContract("redis", async () => {
  const prefix = `test:${crypto.randomUUID()}:`;
  const a = createRedisClient(redis.url, logger, "test", { offlineQueue: false });
  const b = createRedisClient(redis.url, logger, "test", { offlineQueue: false });
  await Promise.all([a.connect(), b.connect()]);
  return {
    limiter: new RedisRateLimiter(a, prefix),
    peer: new RedisRateLimiter(b, prefix),
    close: async () => void await Promise.all([a.close(), b.close()]),
  };
});
