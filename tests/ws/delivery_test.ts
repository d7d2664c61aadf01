import assert from "node:assert/strict";
import {
  createGroup,
  registerUser,
  registerUsers,
  serverTest,
  type TestServer,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

async function group(s: TestServer, n: number) {
  const users = await registerUsers(s.url, n);
  const [owner, ...rest] = users;
  return { users, id: (await createGroup(owner, "Room", rest)).id as string };
}

serverTest(
  "a message reaches every member and the sender's other devices, once, with the stored seq",
  async (s) => {
    const { users: [a, b, c], id } = await group(s, 3);
    const a1 = await WsClient.connect(s.url, a.accessToken);
    const a2 = await WsClient.connect(s.url, a.accessToken);
    const b1 = await WsClient.connect(s.url, b.accessToken);
    const c1 = await WsClient.connect(s.url, c.accessToken);
    const ready = a1.frames[0];
    assert.equal(ready.type, "ready");
    assert.equal(ready.userId, a.id);
    assert.deepEqual(ready.conversations, [{ id, lastSeq: 1 }]);
    assert.equal(ready.heartbeatMs, 30000);
    const ack = await a1.request({
      type: "message.send",
      conversationId: id,
      clientMsgId: "m-1",
      text: "hi all 👋",
    });
    assert.equal(ack.ok, true);
    assert.equal(ack.message.text, "hi all 👋");
    for (const ws of [a2, b1, c1]) {
      const e = await ws.event("message.created", id);
      assert.equal(e.seq, ack.message.seq);
      assert.equal(e.conversationId, id);
      assert.deepEqual(e.data, ack.message);
    }
    // The sender's sending socket gets the event too (its other state stays in sync).
    await a1.event("message.created", id);
    // Exactly once each, after a ping round trip flushes anything in flight.
    for (const ws of [a1, a2, b1, c1]) {
      await ws.request({ type: "ping" });
      assert.equal(ws.events(id).filter((e) => e.event === "message.created").length, 1);
    }
    // REST sends reach sockets the same way.
    const rest = await b.client.post(`/v1/conversations/${id}/messages`, {
      clientMsgId: "m-2",
      text: "via REST",
    });
    assert.equal((await c1.event("message.created", id)).data.id, rest.body.message.id);
    await Promise.all([a1, a2, b1, c1].map((w) => w.close()));
  },
);

serverTest(
  "every frame with an id gets exactly one ack; a retried clientMsgId acks the same message",
  async (s) => {
    const { users: [a], id } = await group(s, 2);
    const ws = await WsClient.connect(s.url, a.accessToken);
    const frames = [
      { type: "ping", id: "p1" },
      { type: "typing", id: "t1", conversationId: id, state: "start" },
      { type: "message.send", id: "s1", conversationId: id, clientMsgId: "same", text: "one" },
      { type: "message.send", id: "s2", conversationId: id, clientMsgId: "same", text: "one" },
      { type: "receipt", id: "r1", conversationId: id, seq: 1, kind: "read" },
      { type: "presence", id: "pr1", presence: "away" },
      { type: "nonsense", id: "x1" },
      { type: "message.send", id: 7, conversationId: id },
    ];
    for (const f of frames) ws.send(f);
    await ws.send({ type: "ping", id: "last" });
    await ws.next((f) => f.type === "ack" && f.id === "last");
    const acks = ws.frames.filter((f) => f.type === "ack");
    for (const f of frames) {
      assert.equal(acks.filter((a) => a.id === f.id).length, 1, `one ack for ${f.id}`);
    }
    const byId = Object.fromEntries(acks.map((a) => [a.id, a]));
    assert.equal(byId.s1.ok, true);
    assert.deepEqual(byId.s2.message, byId.s1.message, "the retry acks the same message");
    assert.equal(byId.x1.ok, false);
    assert.equal(byId.x1.error.code, "validation_failed");
    assert.equal(byId[7].ok, false);
    assert.ok(byId[7].error.errors.some((e: { path: string }) => e.path === "clientMsgId"));
    const history = await a.client.get(`/v1/conversations/${id}/messages`);
    assert.equal(
      history.body.messages.filter((m: { clientMsgId: string }) => m.clientMsgId === "same")
        .length,
      1,
    );
    await ws.close();
  },
);

serverTest(
  "non-members get not_found and receive nothing; a removed member stops receiving at once",
  async (s) => {
    const { users: [owner, member], id } = await group(s, 2);
    const outsider = await registerUser(s.url);
    const o = await WsClient.connect(s.url, owner.accessToken);
    const m = await WsClient.connect(s.url, member.accessToken);
    const x = await WsClient.connect(s.url, outsider.accessToken);
    const denied = await x.request({
      type: "message.send",
      conversationId: id,
      clientMsgId: "x",
      text: "let me in",
    });
    assert.equal(denied.ok, false);
    assert.equal(denied.error.code, "not_found");
    assert.equal(
      (await x.request({ type: "typing", conversationId: id, state: "start" })).error.code,
      "not_found",
    );
    await o.request({
      type: "message.send",
      conversationId: id,
      clientMsgId: "1",
      text: "before",
    });
    await m.event("message.created", id);
    await owner.client.delete(`/v1/conversations/${id}/members/${member.id}`);
    const removed = await m.event("member.removed", id);
    assert.equal(removed.data.userId, member.id);
    await o.request({
      type: "message.send",
      conversationId: id,
      clientMsgId: "2",
      text: "after",
    });
    await o.request({ type: "typing", conversationId: id, state: "start" });
    await o.event("message.created", id);
    await m.request({ type: "ping" });
    await x.request({ type: "ping" });
    assert.ok(!m.events(id).some((e) => e.data?.text === "after"), "nothing after the removal");
    assert.deepEqual(x.events(), [], "an outsider never hears of it");
    // Being added again brings the conversation back live.
    await owner.client.post(`/v1/conversations/${id}/members`, { userIds: [member.id] });
    await m.event("member.added", id);
    await o.request({
      type: "message.send",
      conversationId: id,
      clientMsgId: "3",
      text: "welcome back",
    });
    assert.equal(
      (await m.next((f) => f.event === "message.created" && f.data.text === "welcome back")).seq >
        0,
      true,
    );
    // A newly created conversation reaches its members' open sockets.
    const dm = await outsider.client.post("/v1/conversations", {
      type: "direct",
      userId: owner.id,
    });
    const created = await o.event("conversation.created", dm.body.id);
    assert.equal(created.seq, 1);
    await Promise.all([o, m, x].map((w) => w.close()));
  },
);

serverTest(
  "logout and session revocation close that session's sockets with 4001; others stay",
  async (s) => {
    const u = await registerUser(s.url);
    const second = await registerUser(s.url, { username: `${u.username}x` });
    const other =
      (await u.client.post("/v1/auth/login", { username: u.username, password: u.password }))
        .body;
    const first = await WsClient.connect(s.url, u.accessToken);
    const kept = await WsClient.connect(s.url, other.accessToken);
    const unrelated = await WsClient.connect(s.url, second.accessToken);
    await u.client.post("/v1/auth/logout");
    assert.deepEqual(await first.closed, { code: 4001, reason: "session revoked" });
    assert.equal((await kept.request({ type: "ping" })).ok, true);
    const sessions = await u.client.as(other.accessToken).get("/v1/sessions");
    const current = sessions.body.sessions.find((x: { current: boolean }) => x.current);
    await u.client.as(other.accessToken).delete(`/v1/sessions/${current.id}`);
    assert.equal((await kept.closed).code, 4001);
    assert.equal((await unrelated.request({ type: "ping" })).ok, true);
    await unrelated.close();
  },
);
