import type { Broker } from "../broker/broker.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";

/** What travels beside an event body: who sent it and how a receiver should route and order it. */
export interface EnvelopeMeta {
  /** "event": deliver to clients; "control": instructions between instances (never sent to clients). */
  kind: "event" | "control";
  conversationId?: string;
  /** Present on durable conversation events: their position in the conversation. */
  seq?: number;
  /** The body must be rendered per recipient (reactions carry `me`). */
  personal?: boolean;
  /** For control messages: what to do. */
  action?: string;
  /** How a durable event changes who receives its conversation. */
  membership?: { added?: string[]; removed?: string[]; deleted?: boolean };
  /** Users not to deliver to (the typist of a typing event, members who opted out of receipts). */
  exclude?: string[];
}

/** A received envelope: its meta and the body exactly as serialised once by the publisher. */
export type EnvelopeHandler = (meta: EnvelopeMeta, body: string) => void;

/** Channel of a conversation's events. */
export function conversationChannel(conversationId: string): string {
  return `c:${conversationId}`;
}

/** Channel of events for one user (all their sessions, whatever conversation). */
export function userChannel(userId: string): string {
  return `u:${userId}`;
}

/** What a channel name addresses. */
export type ChannelTarget =
  | { kind: "conversation"; id: string }
  | { kind: "user"; id: string }
  | { kind: "system" };

/** Reads a channel name made by {@link conversationChannel}, {@link userChannel} or the system one. */
export function parseChannel(channel: string): ChannelTarget | null {
  if (channel.startsWith("c:")) return { kind: "conversation", id: channel.slice(2) };
  if (channel.startsWith("u:")) return { kind: "user", id: channel.slice(2) };
  if (channel === SYSTEM_CHANNEL) return { kind: "system" };
  return null;
}

const RETRY_MS = 250;
const MAX_UNSENT = 10_000;

/** Channel every instance listens on, for rare instance-wide notices (e.g. a session revoked). */
export const SYSTEM_CHANNEL = "sys";

/**
 * Publishes committed or ephemeral events: serialises the body once, hands it to this instance's
 * local listener at once (so local users are served even while the broker is away), and to the broker
 * for the other instances. Receivers drop what they published themselves.
 */
export class Publisher {
  #local = new Set<(channel: string, meta: EnvelopeMeta, body: string) => void>();
  #unsent = new Map<string, string>();
  #inflight = new Set<Promise<void>>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #published;
  readonly #failures;

  constructor(
    private readonly broker: Broker,
    readonly instanceId: string,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.#published = metrics.counter("parley_events_published_total", "Events published, by kind");
    this.#failures = metrics.counter(
      "parley_broker_publish_failures_total",
      "Publishes the broker refused (other instances resynchronise from the store)",
    );
  }

  /** Registers this instance's own receiver (the realtime hub). */
  onLocal(fn: (channel: string, meta: EnvelopeMeta, body: string) => void): () => void {
    this.#local.add(fn);
    return () => this.#local.delete(fn);
  }

  /** Hands `body` to this instance's own listeners only (nothing goes to the broker). */
  deliverLocally(channel: string, meta: EnvelopeMeta, body: unknown): void {
    const text = JSON.stringify(body);
    for (const fn of this.#local) {
      try {
        fn(channel, meta, text);
      } catch (err) {
        this.logger.error("local delivery failed", { "error.message": String(err) });
      }
    }
  }

  /**
   * Publishes `body` on `channel`: delivered to this instance's listeners before this returns, and
   * handed to the broker for the others without waiting for it (the connection keeps the order), so
   * an ack never waits on Redis; a broker failure is logged, counted and kept to send again. Never
   * throws. {@link flushed} resolves once every hand-over so far has settled.
   */
  publish(channel: string, meta: EnvelopeMeta, body: unknown): Promise<void> {
    const text = JSON.stringify(body);
    this.#published.inc({
      kind: meta.kind === "control" ? `control:${meta.action}` : eventName(body),
    });
    for (const fn of this.#local) {
      try {
        fn(channel, meta, text);
      } catch (err) {
        this.logger.error("local delivery failed", { "error.message": String(err) });
      }
    }
    // In-process, this instance is the only one: the local delivery above was everything.
    if (this.broker.kind === "memory") return Promise.resolve();
    const payload = JSON.stringify({ ...meta, origin: this.instanceId }) + "\n" + text;
    const durable = meta.kind === "event" && meta.seq !== undefined;
    const sent = this.broker.publish(channel, payload).then(
      () => {
        // A later event of the conversation went out: receivers fill any gap below it themselves.
        if (durable) this.#unsent.delete(channel);
      },
      (err) => {
        this.#failures.inc();
        this.logger.warn("broker publish failed", {
          "broker.channel": channel,
          "error.message": err instanceof Error ? err.message : String(err),
        });
        if (durable) this.#keepUnsent(channel, payload);
        else if (meta.kind === "control") {
          this.#keepUnsent(`${channel}#${crypto.randomUUID()}`, payload);
        }
      },
    );
    this.#inflight.add(sent);
    void sent.finally(() => this.#inflight.delete(sent));
    return Promise.resolve();
  }

  /** Resolves once every publish handed to the broker so far has been sent or failed. */
  async flushed(): Promise<void> {
    await Promise.all([...this.#inflight]);
  }

  /**
   * Keeps what the broker refused to send again once it takes publishes: per conversation only its
   * latest durable event (a receiver that gets it fills the gap below from the store, and drops what
   * it already has), and control messages (a revoked session must close everywhere). Ephemeral events
   * are not worth sending late. Without this, another instance whose own connection to the broker
   * never dropped would not learn of events committed while this one could not publish.
   */
  #keepUnsent(key: string, payload: string): void {
    if (this.#unsent.size >= MAX_UNSENT && !this.#unsent.has(key)) {
      this.#unsent.delete(this.#unsent.keys().next().value!);
    }
    this.#unsent.set(key, payload);
    this.#retryTimer ??= setTimeout(() => void this.#retry(), RETRY_MS);
    Deno.unrefTimer(this.#retryTimer);
  }

  async #retry(): Promise<void> {
    this.#retryTimer = undefined;
    for (const [key, payload] of [...this.#unsent]) {
      if (this.#closed) return;
      try {
        await this.broker.publish(key.split("#")[0], payload);
        if (this.#unsent.get(key) === payload) this.#unsent.delete(key);
      } catch {
        break;
      }
    }
    if (this.#unsent.size > 0 && !this.#closed) {
      this.#retryTimer = setTimeout(() => void this.#retry(), RETRY_MS);
      Deno.unrefTimer(this.#retryTimer);
    }
  }

  /** Stops sending again what the broker refused (at shutdown). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
  }

  /** Subscribes to envelopes from OTHER instances on `channel`. */
  subscribe(channel: string, handler: EnvelopeHandler): Promise<() => Promise<void>> {
    return this.broker.subscribe(channel, (raw) => {
      const nl = raw.indexOf("\n");
      if (nl < 0) return;
      let meta: EnvelopeMeta & { origin?: string };
      try {
        meta = JSON.parse(raw.slice(0, nl));
      } catch {
        return;
      }
      if (meta.origin === this.instanceId) return;
      handler(meta, raw.slice(nl + 1));
    });
  }
}

function eventName(body: unknown): string {
  const name = (body as { event?: unknown })?.event;
  return typeof name === "string" ? name : "other";
}
