import assert from "node:assert/strict";
import type { Change, CommitResult, LogStore } from "../../src/store/store.ts";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  startServer,
  type TestServer,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

/**
 * Makes every commit of the server's store wait (a writer past capacity) until `release`, which
 * also puts the store back as it was; `entered` resolves when the first commit is waiting.
 */
function stallCommits(s: TestServer): { entered: Promise<void>; release(): void } {
  const store = s.parley.store as { log: LogStore };
  const log = store.log;
  const released = Promise.withResolvers<void>();
  const entered = Promise.withResolvers<void>();
  store.log = new Proxy(log, {
    get(target, key) {
      if (key !== "commit") return Reflect.get(target, key);
      return async (change: Change): Promise<CommitResult> => {
        entered.resolve();
        await released.promise;
        return await target.commit(change);
      };
    },
  });
  return {
    entered: entered.promise,
    release() {
      store.log = log;
      released.resolve();
    },
  };
}

Deno.test("admission: past the commit bound new messages are refused at once (503, Retry-After); accepted ones are kept", async () => {
  await using s = await startServer({ SEND_ADMISSION_MS: "200" });
  const [a, b] = await registerUsers(s.url, 2);
  const g = (await createGroup(a, "Busy", [b])).id;
  // The store's commits stall (a writer past capacity) until released.
  const stall = stallCommits(s);
  let first: ReturnType<typeof a.client.post> | undefined;
  try {
    first = a.client.post(`/v1/conversations/${g}/messages`, {
      clientMsgId: "first",
      text: "accepted before the stall",
    });
    await stall.entered;
    // The bound is about time: let the stalled commit age past it.
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const refused = await b.client.post(`/v1/conversations/${g}/messages`, {
      clientMsgId: "second",
      text: "refused while stalled",
    });
    assert.ok(performance.now() - started < 1000, "refused fast, not queued");
    assertProblem(refused, 503, "overloaded");
    assert.equal(refused.headers.get("retry-after"), "1");
    const ws = await WsClient.connect(s.url, b.accessToken);
    try {
      const ack = await ws.request({
        type: "message.send",
        conversationId: g,
        clientMsgId: "third",
        text: "refused on the socket too",
      });
      assert.equal(ack.ok, false);
      assert.equal(ack.error.code, "overloaded");
      assert.equal(ack.error.retryAfterSeconds, 1);
    } finally {
      ws.close();
    }
    // Other requests are not refused (only new messages are).
    ok(await a.client.get(`/v1/conversations/${g}`));
  } finally {
    // Whatever failed above, the stalled commit goes on (the server could not shut down otherwise).
    stall.release();
  }

  ok(await first!, 201);
  // Retrying the refused message with its clientMsgId now succeeds, once.
  const retried = await sendMessage(b, g, { clientMsgId: "second", text: "refused while stalled" });
  const history = ok(await a.client.get(`/v1/conversations/${g}/messages`)).body.messages;
  const texts = history.filter((m: { kind: string }) => m.kind !== "system")
    .map((m: { text: string }) => m.text);
  assert.deepEqual(texts, ["accepted before the stall", "refused while stalled"]);
  assert.equal(history.at(-1).id, retried.id);
});

Deno.test("admission: a socket's message that waited past the bound behind its earlier frames is refused; the earlier one is kept", async () => {
  // While q1's commit stalls, q2 waits behind it in the socket's queue past the bound.
  await using s = await startServer({ SEND_ADMISSION_MS: "200" });
  const [a] = await registerUsers(s.url, 1);
  const g = (await createGroup(a, "Queue", [])).id;
  const stall = stallCommits(s);
  const ws = await WsClient.connect(s.url, a.accessToken);
  try {
    const frame = (clientMsgId: string) => ({
      type: "message.send",
      conversationId: g,
      clientMsgId,
      text: clientMsgId,
    });
    const first = ws.request(frame("q1"));
    await stall.entered;
    // q2 waits behind q1 (frames of a socket are handled in order) for longer than the bound.
    const second = ws.request(frame("q2"));
    await new Promise((r) => setTimeout(r, 300));
    stall.release();
    assert.equal((await first).ok, true);
    const refused = await second;
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, "overloaded");
    assert.equal(refused.error.retryAfterSeconds, 1);
    // The retry lands, once.
    assert.equal((await ws.request(frame("q2"))).ok, true);
    const history = ok(await a.client.get(`/v1/conversations/${g}/messages`)).body.messages;
    assert.deepEqual(
      history.filter((m: { kind: string }) => m.kind !== "system").map((m: { text: string }) =>
        m.text
      ),
      ["q1", "q2"],
    );
  } finally {
    stall.release();
    ws.close();
  }
});

Deno.test("the per-user message rate: past RATE_MESSAGES_PER_MINUTE a send is 429 with Retry-After, on both paths", async () => {
  await using s = await startServer({ RATE_MESSAGES_PER_MINUTE: "3" });
  const [a, b] = await registerUsers(s.url, 2);
  const g = (await createGroup(a, "Chatty", [b])).id;
  for (let i = 0; i < 3; i++) await sendMessage(a, g, { text: `m${i}` });
  const limited = await a.client.post(`/v1/conversations/${g}/messages`, {
    clientMsgId: "over",
    text: "one too many",
  });
  assertProblem(limited, 429, "rate_limited");
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  const ws = await WsClient.connect(s.url, a.accessToken);
  try {
    const ack = await ws.request({
      type: "message.send",
      conversationId: g,
      clientMsgId: "over-ws",
      text: "still too many",
    });
    assert.equal(ack.ok, false);
    assert.equal(ack.error.code, "rate_limited");
    assert.ok(ack.error.retryAfterSeconds >= 1);
  } finally {
    ws.close();
  }
  // Another user's bucket is their own.
  await sendMessage(b, g, { text: "mine" });
});
