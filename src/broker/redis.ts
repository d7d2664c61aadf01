import { createClient } from "redis";
import type { Logger } from "../observability/logger.ts";
import { type Broker, type BrokerHandler, HandlerTable } from "./broker.ts";

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

/**
 * The Redis {@link Broker}: one connection publishes (failing fast while Redis is away, so callers
 * never block on it), one subscribes (node-redis resubscribes after a reconnect). Each channel is
 * subscribed in Redis once, however many local handlers it has.
 */
export class RedisBroker implements Broker {
  readonly kind = "redis" as const;
  #handlers = new HandlerTable();
  #listeners = new Set<(up: boolean) => void>();
  #up = false;
  #closing = false;

  private constructor(
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
    private readonly logger: Logger,
    private readonly prefix: string,
  ) {
    const set = (up: boolean) => {
      if (up === this.#up || this.#closing) return;
      this.#up = up;
      logger.info(up ? "broker connected" : "broker disconnected", { "broker.kind": "redis" });
      for (const l of this.#listeners) l(up);
    };
    sub.on("ready", () => set(true));
    sub.on("end", () => set(false));
    sub.on("reconnecting", () => set(false));
    sub.on("error", () => set(false));
  }

  /**
   * Connects both clients; rejects if Redis cannot be reached at start-up. Channels are namespaced
   * with `prefix` (`REDIS_PREFIX`).
   */
  static async connect(url: string, logger: Logger, prefix = "parley:"): Promise<RedisBroker> {
    const pub = createRedisClient(url, logger, "broker-publish", { offlineQueue: false });
    const sub = createRedisClient(url, logger, "broker-subscribe", { offlineQueue: true });
    const broker = new RedisBroker(pub, sub, logger, prefix);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (err) {
      await broker.close();
      throw err;
    }
    broker.#up = true;
    return broker;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.pub.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>> {
    if (this.#handlers.add(channel, handler)) {
      const subscribed = this.sub.subscribe(this.prefix + channel, this.#dispatch);
      // While Redis is away the command waits in the offline queue; the caller resynchronises from
      // the store when the broker comes back, so it need not wait here.
      if (this.#up) await subscribed;
      else subscribed.catch(() => {});
    }
    return async () => {
      if (this.#handlers.remove(channel, handler) && !this.#closing) {
        await this.sub.unsubscribe(this.prefix + channel, this.#dispatch).catch(() => {});
      }
    };
  }

  #dispatch = (message: string, channel: string) => {
    this.#handlers.dispatch(
      channel.slice(this.prefix.length),
      message,
      (err) =>
        this.logger.error("broker handler failed", {
          "error.message": err instanceof Error ? err.message : String(err),
        }),
    );
  };

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  onStatus(listener: (up: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get connected(): boolean {
    return this.#up;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([this.pub, this.sub].map(async (c) => {
      try {
        if (c.isOpen) await c.close();
      } catch {
        c.destroy();
      }
    }));
  }
}
