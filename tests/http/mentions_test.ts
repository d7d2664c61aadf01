import assert from "node:assert/strict";
import { assertProblem, createGroup, ok, registerUsers, serverTest } from "../support/server.ts";

serverTest(
  "mentions: @all needs admins unless allowed; unread mention counts and the feed",
  async (s) => {
    const [owner, m, n] = await registerUsers(s.url, 3);
    const g = await createGroup(owner, "Mentions", [m, n]);
    const send = (u: typeof owner, body: Record<string, unknown>) =>
      u.client.post(`/v1/conversations/${g.id}/messages`, {
        clientMsgId: crypto.randomUUID(),
        ...body,
      });
    const entry = async (u: typeof owner) =>
      ok(await u.client.get("/v1/conversations")).body.conversations.find((c: any) =>
        c.id === g.id
      );

    assertProblem(await send(m, { text: "hey all", mentionsAll: true }), 403, "forbidden");
    ok(
      await owner.client.patch(`/v1/conversations/${g.id}`, {
        settings: { membersCanMentionAll: true },
      }),
    );
    const all = ok(await send(m, { text: "hey all", mentionsAll: true }), 201).body.message;
    assert.equal(all.mentionsAll, true);
    assert.equal((await entry(owner)).unreadMentionCount, 1, "@all counts for everyone else");
    const named = ok(await send(owner, { text: "@n look", mentions: [n.id] }), 201).body.message;
    ok(await send(owner, { text: "no mention" }), 201);

    assert.equal((await entry(n)).unreadMentionCount, 2, "named + @all");
    assert.equal((await entry(owner)).unreadMentionCount, 0, "sending read what came before");
    assert.equal((await entry(m)).unreadMentionCount, 0, "their own @all does not count");

    const feed = ok(await n.client.get("/v1/users/me/mentions")).body;
    assert.deepEqual(feed.messages.map((x: any) => x.id), [named.id, all.id], "newest first");
    const first = ok(await n.client.get("/v1/users/me/mentions?limit=1")).body;
    assert.deepEqual(first.messages.map((x: any) => x.id), [named.id]);
    const rest =
      ok(await n.client.get(`/v1/users/me/mentions?limit=1&cursor=${first.nextCursor}`)).body;
    assert.deepEqual(rest.messages.map((x: any) => x.id), [all.id]);
    assert.equal(rest.nextCursor, undefined);
    assert.deepEqual(ok(await m.client.get("/v1/users/me/mentions")).body.messages, []);

    ok(
      await owner.client.delete(`/v1/conversations/${g.id}/messages/${named.id}?for=everyone`),
      204,
    );
    assert.equal((await entry(n)).unreadMentionCount, 1, "a deleted mention no longer counts");
    const latest = (await entry(n)).lastSeq;
    ok(await n.client.post(`/v1/conversations/${g.id}/read`, { seq: latest }), 204);
    assert.equal((await entry(n)).unreadMentionCount, 0, "read");
    assert.deepEqual(
      ok(await n.client.get("/v1/users/me/mentions")).body.messages.map((x: any) => x.id),
      [all.id],
      "the feed keeps read mentions",
    );
  },
);

serverTest(
  "mentions: naming a non-member is refused; @all is fine in a direct conversation",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const d =
      ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201).body.id;
    const post = (body: Record<string, unknown>) =>
      a.client.post(`/v1/conversations/${d}/messages`, {
        clientMsgId: crypto.randomUUID(),
        ...body,
      });
    assertProblem(await post({ text: "hi", mentions: [c.id] }), 400, "validation_failed");
    assert.equal(
      ok(await post({ text: "hi all", mentionsAll: true }), 201).body.message.mentionsAll,
      true,
    );
    const entry = ok(await b.client.get("/v1/conversations")).body.conversations[0];
    assert.equal(entry.unreadMentionCount, 1);
  },
);
