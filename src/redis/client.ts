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

/** Calls that make a builder whose `exec` is the one command sent. */
const BUILDERS = new Set(["multi", "MULTI"]);

/** A command that met no answer in time, or was not sent because the breaker is open. */
export class RedisDeadlineError extends Error {
  override name = "RedisDeadlineError";
}

/**
 * Gives every command of `client` a deadline, so a Redis that hangs (paused, overloaded, a network
 * black hole) fails its callers as fast as a Redis that is down: what each use does then is the same
 * as for an outage (messages fail open, login closed, reads go to the store, publishes are kept).
 * After a command misses its deadline the breaker opens: for the next second every command fails at
 * once; then a single command is let through as a probe (the others keep failing at once while it is
 * out): if it answers in time the breaker closes, if not it opens for another second. So a hung Redis
 * holds up at most one command per second, never every caller at once. Multi/exec builders are
 * covered too.
 */
export function withDeadlines(
  client: RedisClient,
  deadlineMs: number,
  logger: Logger,
  role: string,
): RedisClient {
  /** 0 while closed; else when the breaker may let a probe through. */
  let openUntil = 0;
  let probing = false;
  /** Whether a command may be sent now (a closed breaker, or the one probe of a half-open one). */
  const admit = (): boolean => openUntil === 0 || (Date.now() >= openUntil && !probing);
  const timed = <T>(attempt: Promise<T>, open: boolean): Promise<T> => {
    // Whatever happens below, a late answer or failure of the command itself is dropped here.
    attempt.catch(() => {});
    if (open) probing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (openUntil === 0) {
          logger.warn("redis command missed its deadline; failing fast for a second", {
            "redis.role": role,
            "redis.deadline_ms": deadlineMs,
          });
        }
        openUntil = Date.now() + 1000;
        reject(new RedisDeadlineError(`redis did not answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    return Promise.race([attempt, deadline]).then(
      (value) => {
        // An answer in time: the probe (or any command) closes the breaker.
        if (open) openUntil = 0;
        return value;
      },
    ).finally(() => {
      clearTimeout(timer);
      if (open) probing = false;
    });
  };
  const call = (run: () => unknown): unknown => {
    if (!admit()) {
      // Not even sent: a Redis that hangs must not collect a queue of commands.
      return Promise.reject(new RedisDeadlineError("redis is not answering (breaker open)"));
    }
    const open = openUntil !== 0;
    const result = run();
    return result && typeof (result as Promise<unknown>).then === "function"
      ? timed(result as Promise<unknown>, open)
      : result;
  };
  // A builder (multi): its commands only queue, so they pass; its exec is one timed command.
  const wrapBuilder = <O extends object>(target: O): O =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function") return value;
        if (String(prop).startsWith("exec")) {
          return (...args: unknown[]) => call(() => value.apply(obj, args));
        }
        return (...args: unknown[]) => {
          const result = value.apply(obj, args);
          return result === obj ? receiver : result;
        };
      },
    });
  const wrap = <O extends object>(target: O): O =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function" || UNTIMED.has(String(prop))) return value;
        if (BUILDERS.has(String(prop))) {
          return (...args: unknown[]) => wrapBuilder(value.apply(obj, args) as object);
        }
        return (...args: unknown[]) => call(() => value.apply(obj, args));
      },
    });
  return wrap(client);
}
