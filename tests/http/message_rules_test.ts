import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  registerUser,
  registerUsers,
  serverTest,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "deleted for me: gone from that user's unread count, /events catch-up and socket resume",
  async (s) => {
    const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const keep = (await a.client.post(`/v1/conversations/${dm.id}/messages`, {
      clientMsgId: "k",
      text: "keep",
    })).body.message;
    const gone = (await a.client.post(`/v1/conversations/${dm.id}/messages`, {
      clientMsgId: "g",
      text: "gone",
    })).body.message;
    assert.equal((await b.client.get(`/v1/conversations/${dm.id}`)).body.unreadCount, 2);
    await b.client.delete(`/v1/conversations/${dm.id}/messages/${gone.id}?for=me`);
    assert.equal((await b.client.get(`/v1/conversations/${dm.id}`)).body.unreadCount, 1);
    const events = (await b.client.get(`/v1/conversations/${dm.id}/events?after=1`)).body;
    assert.deepEqual(events.events.map((e: { data: { id: string } }) => e.data.id), [keep.id]);
    assert.equal(events.nextAfter, gone.seq, "the page still advances past what was hidden");
    // A page made only of hidden events still moves the cursor on.
    const only =
      (await b.client.get(`/v1/conversations/${dm.id}/events?after=${keep.seq}&limit=1`)).body;
    assert.deepEqual(only.events, []);
    assert.equal(only.nextAfter, gone.seq);
    const ws = await WsClient.connect(s.url, b.accessToken, { [dm.id]: 1 });
    await ws.event("message.created", dm.id);
    await ws.request({ type: "ping" });
    assert.deepEqual(ws.events(dm.id).map((e) => e.data.id), [keep.id]);
    await ws.close();
    // The other member still sees both.
    const theirs = (await a.client.get(`/v1/conversations/${dm.id}/events?after=1`)).body.events;
    assert.equal(theirs.length, 2);
  },
);

serverTest("receipts list only members who were there when the message was sent", async (s) => {
  const [a, b, late] = await registerUsers(s.url, 3);
  const g = await createGroup(a, "g", [b]);
  const m = (await a.client.post(`/v1/conversations/${g.id}/messages`, {
    clientMsgId: "1",
    text: "early",
  })).body.message;
  // A later join needs a later timestamp than the message.
  const until = Date.parse(m.createdAt) + 2;
  while (Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  await a.client.post(`/v1/conversations/${g.id}/members`, { userIds: [late.id] });
  const r =
    (await a.client.get(`/v1/conversations/${g.id}/messages/${m.id}/receipts`)).body.receipts;
  assert.deepEqual(r.map((x: { userId: string }) => x.userId), [b.id]);
});

serverTest(
  "system messages take no reactions; a lone heart and the emoji heart are one reaction",
  async (s) => {
    const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
    const g = await createGroup(a, "g", [b]);
    const system = (await a.client.get(`/v1/conversations/${g.id}/messages`)).body.messages[0];
    assert.equal(system.kind, "system");
    assertProblem(
      await a.client.put(
        `/v1/conversations/${g.id}/messages/${system.id}/reactions/%F0%9F%91%8D`,
      ),
      403,
      "forbidden",
    );
    const m = (await a.client.post(`/v1/conversations/${g.id}/messages`, {
      clientMsgId: "1",
      text: "hi",
    })).body.message;
    await a.client.put(
      `/v1/conversations/${g.id}/messages/${m.id}/reactions/${encodeURIComponent("❤")}`,
    );
    const both = await b.client.put(
      `/v1/conversations/${g.id}/messages/${m.id}/reactions/${encodeURIComponent("❤️")}`,
    );
    assert.deepEqual(both.body.reactions, [{ emoji: "❤️", count: 2, me: true }]);
    const off = await a.client.delete(
      `/v1/conversations/${g.id}/messages/${m.id}/reactions/${encodeURIComponent("❤️")}`,
    );
    assert.deepEqual(off.body.reactions, [{ emoji: "❤️", count: 1, me: false }]);
  },
);
