import assert from "node:assert/strict";
import type { Broker } from "../../src/broker/broker.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/** Collects messages and lets a test wait for a count, never sleeping blindly. */
export class Inbox {
  messages: string[] = [];
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  push = (m: string) => {
    this.messages.push(m);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.messages.length >= w.n) w.resolve();
      return this.messages.length < w.n;
    });
  };

  /** Resolves once `n` messages arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.messages.length} of ${n} messages arrived`)),
        timeoutMs,
      );
      this.#waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/**
 * The behaviour every {@link Broker} adapter must have. `makeBrokers` returns two brokers that talk
 * to the same transport (two "instances"); for the in-process adapter they are the same object.
 * The tests run sanitized unless `sanitizers` turns that off.
 */
export function runBrokerContract(
  name: string,
  makeBrokers: () => Promise<{ a: Broker; b: Broker; close: () => Promise<void> }>,
  sanitizers: Sanitizers = sanitized,
): void {
  const test = (title: string, fn: (a: Broker, b: Broker) => Promise<void>) =>
    Deno.test({
      name: `${name} broker: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { a, b, close } = await makeBrokers();
        try {
          await fn(a, b);
        } finally {
          await close();
        }
      },
    });

  test("a subscription is active when subscribe() resolves", async (a, b) => {
    const inbox = new Inbox();
    await b.subscribe("c:one", inbox.push);
    await a.publish("c:one", "hello");
    await inbox.waitFor(1);
    assert.deepEqual(inbox.messages, ["hello"]);
  });

  test("messages on one channel arrive in publish order", async (a, b) => {
    const inbox = new Inbox();
    await b.subscribe("c:order", inbox.push);
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const m of sent) await a.publish("c:order", m);
    await inbox.waitFor(sent.length);
    assert.deepEqual(inbox.messages, sent);
  });

  test("other channels' handlers never see a message", async (a, b) => {
    const mine = new Inbox();
    const other = new Inbox();
    await b.subscribe("c:mine", mine.push);
    await b.subscribe("c:other", other.push);
    await a.publish("c:mine", "x");
    await a.publish("c:other", "y");
    await Promise.all([mine.waitFor(1), other.waitFor(1)]);
    assert.deepEqual(mine.messages, ["x"]);
    assert.deepEqual(other.messages, ["y"]);
  });

  test("every handler of a channel receives each message once", async (a, b) => {
    const one = new Inbox();
    const two = new Inbox();
    await b.subscribe("c:fan", one.push);
    await b.subscribe("c:fan", two.push);
    await a.publish("c:fan", "m");
    await Promise.all([one.waitFor(1), two.waitFor(1)]);
    await a.publish("c:fan", "n");
    await Promise.all([one.waitFor(2), two.waitFor(2)]);
    assert.deepEqual(one.messages, ["m", "n"]);
    assert.deepEqual(two.messages, ["m", "n"]);
  });

  test("unsubscribing stops delivery to that handler only", async (a, b) => {
    const gone = new Inbox();
    const stays = new Inbox();
    const off = await b.subscribe("c:unsub", gone.push);
    await b.subscribe("c:unsub", stays.push);
    await a.publish("c:unsub", "1");
    await Promise.all([gone.waitFor(1), stays.waitFor(1)]);
    await off();
    await a.publish("c:unsub", "2");
    await stays.waitFor(2);
    assert.deepEqual(gone.messages, ["1"]);
    assert.deepEqual(stays.messages, ["1", "2"]);
  });

  test("payloads keep every character (unicode, newlines, large)", async (a, b) => {
    const inbox = new Inbox();
    await b.subscribe("c:unicode", inbox.push);
    const payloads = ['👨‍👩‍👧‍👦 é\n{"json":true}\n', "x".repeat(256 * 1024), ""];
    for (const p of payloads) await a.publish("c:unicode", p);
    await inbox.waitFor(payloads.length);
    assert.deepEqual(inbox.messages, payloads);
  });

  test("a handler that throws does not stop the others", async (a, b) => {
    const inbox = new Inbox();
    await b.subscribe("c:throw", () => {
      throw new Error("boom");
    });
    await b.subscribe("c:throw", inbox.push);
    await a.publish("c:throw", "still delivered");
    await inbox.waitFor(1);
  });

  test("ping answers while connected", async (a) => {
    await a.ping();
  });
}
