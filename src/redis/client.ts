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

/**
 * Creates a node-redis client that reconnects forever with backoff and never throws on its own.
 * With `deadlineMs`, every command has that deadline and a circuit breaker (see {@link withDeadlines}).
 */
export function createRedisClient(
  url: string,
  logger: Logger,
  role: string,
  options: { offlineQueue: boolean; deadlineMs?: number },
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
  return options.deadlineMs ? withDeadlines(client, options.deadlineMs, logger, role) : client;
}

/** Calls that manage the connection itself: never given a deadline. */
const UNTIMED = new Set([
  "connect",
  "disconnect",
  "quit",
  "close",
  "destroy",
  "on",
  "once",
  "off",
  "duplicate",
]);

/** A command that met no answer in time, or was not sent because the breaker is open. */
export class RedisDeadlineError extends Error {
  override name = "RedisDeadlineError";
}

/**
 * Gives every command of `client` a deadline, so a Redis that hangs (paused, overloaded, a network
 * black hole) fails its callers as fast as a Redis that is down: what each use does then is the same
 * as for an outage (messages fail open, login closed, reads go to the store, publishes are kept).
 * After a command misses its deadline the breaker opens: for the next second every command fails at
 * once, then one is let through to try again. Multi/exec builders are covered too.
 */
export function withDeadlines(
  client: RedisClient,
  deadlineMs: number,
  logger: Logger,
  role: string,
): RedisClient {
  let openUntil = 0;
  const timed = <T>(attempt: Promise<T>): Promise<T> => {
    // Whatever happens below, a late answer or failure of the command itself is dropped here.
    attempt.catch(() => {});
    if (Date.now() < openUntil) {
      return Promise.reject(new RedisDeadlineError("redis is not answering (breaker open)"));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (Date.now() >= openUntil) {
          logger.warn("redis command missed its deadline; failing fast for a second", {
            "redis.role": role,
            "redis.deadline_ms": deadlineMs,
          });
        }
        openUntil = Date.now() + 1000;
        reject(new RedisDeadlineError(`redis did not answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    return Promise.race([attempt, deadline]).finally(() => clearTimeout(timer));
  };
  const wrap = <O extends object>(target: O): O =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function" || UNTIMED.has(String(prop))) return value;
        return (...args: unknown[]) => {
          const result = value.apply(obj, args);
          if (result && typeof (result as Promise<unknown>).then === "function") {
            return timed(result as Promise<unknown>);
          }
          // A builder (multi, pipelines): its exec gets the deadline too.
          return result && typeof result === "object" ? wrap(result as object) : result;
        };
      },
    });
  return wrap(client);
}
