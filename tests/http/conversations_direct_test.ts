// Direct conversations: opened once per pair, whoever opens them and however concurrently.
import assert from "node:assert/strict";
import { allEvents, ids, list } from "../support/conversations.ts";
import { assertProblem, registerUsers, serverTest } from "../support/server.ts";

serverTest(
  "a direct conversation is opened once: 201, then 200 with the same id from either side",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const first = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
    assert.equal(first.status, 201);
    assert.equal(first.body.type, "direct");
    assert.equal(first.body.myRole, "member");
    assert.equal(first.body.memberCount, 2);
    assert.deepEqual(first.body.peer, {
      id: b.id,
      username: b.username,
      displayName: first.body.peer.displayName,
    });
    const again = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const fromB = await b.client.post("/v1/conversations", { type: "direct", userId: a.id });
    assert.equal(fromB.status, 200);
    assert.equal(fromB.body.id, first.body.id);
    assert.equal(fromB.body.peer.id, a.id);
    assert.equal(fromB.body.myRole, "member");
    assertProblem(await c.client.get(`/v1/conversations/${first.body.id}`), 404, "not_found");

    const other = await a.client.post("/v1/conversations", { type: "direct", userId: c.id });
    assert.equal(other.status, 201);
    assert.notEqual(other.body.id, first.body.id);

    const self = await a.client.post("/v1/conversations", { type: "direct", userId: a.id });
    assertProblem(self, 400, "validation_failed");
    assert.equal(self.body.errors[0].path, "userId");
    const unknown = await a.client.post("/v1/conversations", {
      type: "direct",
      userId: "0000000000nosuchuser000000",
    });
    assertProblem(unknown, 400, "validation_failed");
    assert.equal(unknown.body.errors[0].path, "userId");
    assert.equal((await list(a)).length, 2, "failed attempts create nothing");
  },
);

serverTest(
  "opening a direct conversation concurrently from both sides yields one conversation",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const attempts = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          i % 2 === 0
            ? a.client.post("/v1/conversations", { type: "direct", userId: b.id })
            : b.client.post("/v1/conversations", { type: "direct", userId: a.id }),
      ),
    );
    assert.equal(new Set(attempts.map((r) => r.body.id)).size, 1, "one id for all");
    assert.equal(attempts.filter((r) => r.status === 201).length, 1, "created exactly once");
    assert.equal(attempts.filter((r) => r.status === 200).length, 19);
    assert.deepEqual(ids(await list(a)), [attempts[0].body.id]);
    assert.deepEqual(ids(await list(b)), [attempts[0].body.id]);
    const events = await allEvents(a, attempts[0].body.id);
    assert.deepEqual(events.map((e) => e.event), ["conversation.created"]);
  },
);
