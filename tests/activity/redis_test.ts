import { RedisActivityLedger } from "../../src/activity/redis.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createRedisClient } from "../../src/redis/client.ts";
import { sharedRedis } from "../support/redis.ts";
import { runActivityContract } from "./activity_contract.ts";

const logger = createLogger({ level: "error", write: () => {} });
const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

runActivityContract("redis", async () => {
  const client = createRedisClient(redis.url, logger, "test", { offlineQueue: false });
  await client.connect();
  return {
    ledger: new RedisActivityLedger(client, `test:${crypto.randomUUID()}:`),
    close: async () => void await client.close(),
  };
});
