import assert from "node:assert/strict";
import type { Broker } from "../../src/broker/broker.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { MetricsRegistry } from "../../src/observability/metrics.ts";
import { Publisher } from "../../src/services/publisher.ts";

/** A "redis" broker that refuses publishes while `down`, recording what it took. */
class FlakyBroker implements Broker {
  readonly kind = "redis" as const;
  down = true;
  sent: Array<{ channel: string; meta: Record<string, unknown> }> = [];
  publish(channel: string, message: string): Promise<void> {
    if (this.down) return Promise.reject(new Error("connection lost"));
    this.sent.push({ channel, meta: JSON.parse(message.slice(0, message.indexOf("\n"))) });
    return Promise.resolve();
  }
  subscribe(): Promise<() => Promise<void>> {
    return Promise.resolve(() => Promise.resolve());
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  onStatus(): () => void {
    return () => {};
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("the publisher sends again what the broker refused: the latest durable event per conversation and control messages, not ephemeral ones", async () => {
  const broker = new FlakyBroker();
  const logger = createLogger({ level: "error", write: () => {} });
  const publisher = new Publisher(broker, "i1", logger, new MetricsRegistry());
  try {
    for (const seq of [5, 6, 7]) {
      await publisher.publish("c:one", { kind: "event", conversationId: "one", seq }, { seq });
    }
    await publisher.publish("c:two", { kind: "event", conversationId: "two", seq: 3 }, {});
    await publisher.publish("c:one", { kind: "event", conversationId: "one" }, { typing: true });
    await publisher.publish("sys", { kind: "control", action: "sessions.revoked" }, {});
    await publisher.publish("u:x", { kind: "event" }, { event: "presence" });
    assert.equal(broker.sent.length, 0, "nothing went out while down");
    broker.down = false;
    for (let i = 0; i < 100 && broker.sent.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      broker.sent.map((m) => [m.channel, m.meta.seq ?? m.meta.action]).sort(),
      [["c:one", 7], ["c:two", 3], ["sys", "sessions.revoked"]].sort(),
    );
    assert.ok(broker.sent.every((m) => m.meta.origin === "i1"));
  } finally {
    publisher.close();
  }
});

Deno.test("a later event that goes out supersedes the one the broker refused", async () => {
  const broker = new FlakyBroker();
  const logger = createLogger({ level: "error", write: () => {} });
  const publisher = new Publisher(broker, "i1", logger, new MetricsRegistry());
  try {
    await publisher.publish("c:one", { kind: "event", conversationId: "one", seq: 1 }, {});
    broker.down = false;
    await publisher.publish("c:one", { kind: "event", conversationId: "one", seq: 2 }, {});
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(broker.sent.map((m) => m.meta.seq), [2], "receivers fill seq 1 themselves");
  } finally {
    publisher.close();
  }
});
