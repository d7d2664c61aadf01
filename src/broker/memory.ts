import { type Broker, type BrokerHandler, HandlerTable } from "./broker.ts";

/**
 * The in-process {@link Broker}: one process, no network. Messages are delivered asynchronously (in a
 * later microtask), in publish order, like a real transport would.
 */
export class MemoryBroker implements Broker {
  readonly kind = "memory" as const;
  #handlers = new HandlerTable();
  #closed = false;

  constructor(private readonly onError: (err: unknown) => void = console.error) {}

  publish(channel: string, message: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("broker closed"));
    queueMicrotask(() => this.#handlers.dispatch(channel, message, this.onError));
    return Promise.resolve();
  }

  subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>> {
    this.#handlers.add(channel, handler);
    return Promise.resolve(() => {
      this.#handlers.remove(channel, handler);
      return Promise.resolve();
    });
  }

  ping(): Promise<void> {
    return this.#closed ? Promise.reject(new Error("broker closed")) : Promise.resolve();
  }

  onStatus(_listener: (up: boolean) => void): () => void {
    return () => {};
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
