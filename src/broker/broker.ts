/** Receives the messages published on a channel, in publish order. */
export type BrokerHandler = (message: string) => void;

/**
 * Cross-instance publish/subscribe. Delivery is at most once and may drop messages while the transport
 * reconnects; that is acceptable because everything durable is in the store and consumers fill gaps from
 * it (see `realtime/hub.ts`). Every adapter passes `tests/broker/broker_contract.ts`.
 *
 * Guarantees: messages published on one channel by one publisher arrive in order; a subscription is
 * active when `subscribe` resolves (a publish after that reaches it); handlers of other channels never
 * see a message.
 */
export interface Broker {
  readonly kind: "memory" | "redis";
  publish(channel: string, message: string): Promise<void>;
  /** Adds a handler; resolves once active, with a function that removes it again. */
  subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>>;
  /** Resolves when the transport answers; rejects when it is unreachable. */
  ping(): Promise<void>;
  /**
   * Calls `listener(true)` each time the transport (re)connects and `listener(false)` when it drops.
   * Consumers resynchronise from the store on `true`, since messages may have been missed.
   */
  onStatus(listener: (up: boolean) => void): () => void;
  close(): Promise<void>;
}

/** Keeps the handlers of each channel; shared by adapters. */
export class HandlerTable {
  #channels = new Map<string, Set<BrokerHandler>>();

  /** Adds a handler and reports whether it is the channel's first. */
  add(channel: string, handler: BrokerHandler): boolean {
    let set = this.#channels.get(channel);
    const first = !set;
    if (!set) this.#channels.set(channel, set = new Set());
    set.add(handler);
    return first;
  }

  /** Removes a handler and reports whether the channel has none left. */
  remove(channel: string, handler: BrokerHandler): boolean {
    const set = this.#channels.get(channel);
    if (!set) return false;
    set.delete(handler);
    if (set.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  dispatch(channel: string, message: string, onError: (err: unknown) => void): void {
    const set = this.#channels.get(channel);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(message);
      } catch (err) {
        onError(err);
      }
    }
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  get size(): number {
    return this.#channels.size;
  }
}
