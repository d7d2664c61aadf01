// clientMsgId: a retried send stores one message, however many retries and instances.
import assert from "node:assert/strict";
import { allMessages, direct, userMessages } from "../support/conversations.ts";
import {
  assertProblem,
  Client,
  registerUsers,
  serverTest,
  startServer,
  tempDir,
} from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

serverTest(
  "the same clientMsgId twice gives the same message with 200 and one history entry",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const body = { clientMsgId: "txn-1", text: "once" };
    const first = await a.client.post(`/v1/conversations/${conv}/messages`, body);
    const again = await a.client.post(`/v1/conversations/${conv}/messages`, body);
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.message, first.body.message);
    const history = userMessages(await allMessages(b, conv));
    assert.deepEqual(history.map((m) => m.id), [first.body.message.id]);
  },
);

serverTest("the same clientMsgId from another user gives a second message", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const conv = await direct(a, b);
  const body = { clientMsgId: "shared-txn", text: "same key" };
  const fromA = await a.client.post(`/v1/conversations/${conv}/messages`, body);
  const fromB = await b.client.post(`/v1/conversations/${conv}/messages`, body);
  assert.equal(fromA.status, 201);
  assert.equal(fromB.status, 201);
  assert.notEqual(fromA.body.message.id, fromB.body.message.id);
  const history = userMessages(await allMessages(a, conv));
  assert.deepEqual(history.map((m) => m.senderId), [a.id, b.id]);
});

serverTest(
  "a clientMsgId reused by the same sender in another conversation is a 409 conflict",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const one = await direct(a, b);
    const two = await direct(a, c);
    const body = { clientMsgId: "reused", text: "where am I" };
    assert.equal((await a.client.post(`/v1/conversations/${one}/messages`, body)).status, 201);
    assertProblem(
      await a.client.post(`/v1/conversations/${two}/messages`, body),
      409,
      "conflict",
    );
    assert.equal(userMessages(await allMessages(c, two)).length, 0);
  },
);

for (const groupCommit of ["true", "false"]) {
  serverTest(
    `20 parallel retries of one clientMsgId store exactly one message (GROUP_COMMIT=${groupCommit})`,
    { env: { GROUP_COMMIT: groupCommit } },
    async (s) => {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const body = { clientMsgId: "storm", text: "retry storm" };
      const replies = await Promise.all(
        Array.from(
          { length: 20 },
          () => a.client.post(`/v1/conversations/${conv}/messages`, body),
        ),
      );
      const statuses = replies.map((r) => r.status).sort((x, y) => x - y);
      assert.deepEqual(statuses, [...Array(19).fill(200), 201]);
      const ids = new Set(replies.map((r) => r.body.message.id));
      const seqs = new Set(replies.map((r) => r.body.message.seq));
      assert.equal(ids.size, 1);
      assert.equal(seqs.size, 1);
      const history = userMessages(await allMessages(a, conv));
      assert.deepEqual(history.map((m) => m.id), [...ids]);
      const events = await a.client.get(`/v1/conversations/${conv}/events?after=0&limit=200`);
      assert.equal(
        events.body.events.filter((e: any) => e.event === "message.created").length,
        1,
        "one message.created event",
      );
    },
  );
}

Deno.test(
  "parallel retries across two instances sharing one DATA_DIR store exactly one message",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-idem-");
    await using one = await startServer({ DATA_DIR: dir.path });
    await using two = await startServer({ DATA_DIR: dir.path });
    const [a, b] = await registerUsers(one.url, 2);
    const conv = await direct(a, b);
    const body = { clientMsgId: "cross-instance", text: "from anywhere" };
    const clients = [a.client, new Client(two.url, a.accessToken)];
    const replies = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => clients[i % 2].post(`/v1/conversations/${conv}/messages`, body),
      ),
    );
    const statuses = replies.map((r) => r.status).sort((x, y) => x - y);
    assert.deepEqual(statuses, [...Array(19).fill(200), 201], JSON.stringify(replies.at(-1)));
    assert.equal(new Set(replies.map((r) => r.body.message.id)).size, 1);
    assert.equal(userMessages(await allMessages(b, conv)).length, 1);
  },
);
