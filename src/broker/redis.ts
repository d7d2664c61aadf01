import { createRedisClient, type RedisClient } from "../redis/client.ts";
import type { Logger } from "../observability/logger.ts";
import { type Broker, type BrokerHandler, HandlerTable } from "./broker.ts";

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
  static async connect(
    url: string,
    logger: Logger,
    prefix = "parley:",
    deadlineMs?: number,
  ): Promise<RedisBroker> {
    const pub = createRedisClient(url, logger, "broker-publish", {
      offlineQueue: false,
      deadlineMs,
    });
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
