import { createClient } from "redis";
import type { Logger } from "../observability/logger.ts";

function buildClient(url: string, offlineQueue: boolean) {
  return createClient({
    url,
    socket: {
      reconnectStrategy: (retries: number) => reconnectDelay(retries),
      connectTimeout: 5000,
    },
    disableOfflineQueue: !offlineQueue,
    pingInterval: 10_000,
  });
}

/** A node-redis client as Parley configures it. */
export type RedisClient = ReturnType<typeof buildClient>;

/** Exponential backoff with jitter, capped at 5 s: how long to wait before reconnect attempt `n`. */
export function reconnectDelay(retries: number): number {
  const base = Math.min(5000, 100 * 2 ** Math.min(retries, 6));
  return Math.round(base / 2 + Math.random() * base / 2);
}

/** Creates a node-redis client that reconnects forever with backoff and never throws on its own. */
export function createRedisClient(
  url: string,
  logger: Logger,
  role: string,
  options: { offlineQueue: boolean },
): RedisClient {
  const client = buildClient(url, options.offlineQueue);
  let lastError = 0;
  client.on("error", (err: Error) => {
    // A down Redis emits an error per retry: log at most every 10 s.
    if (Date.now() - lastError > 10_000) {
      lastError = Date.now();
      logger.warn("redis connection problem", { "redis.role": role, "error.message": err.message });
    }
  });
  return client;
}
