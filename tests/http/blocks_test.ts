import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "blocking: the blocked user tries every way to reach the blocker and is refused",
  async (s) => {
    const [blocker, blocked, other] = await registerUsers(s.url, 3);
    // A direct conversation from before the block, and a shared group.
    const dm = ok(
      await blocked.client.post("/v1/conversations", { type: "direct", userId: blocker.id }),
      201,
    ).body.id;
    ok(await blocker.client.patch("/v1/users/me", { statusText: "busy", presence: "online" }));
    const group = await createGroup(other, "Shared", [blocker, blocked]);

    ok(await blocker.client.put(`/v1/users/me/blocks/${blocked.id}`), 204);
    ok(await blocker.client.put(`/v1/users/me/blocks/${blocked.id}`), 204);
    const list = ok(await blocker.client.get("/v1/users/me/blocks")).body.blocks;
    assert.deepEqual(list.map((b: any) => b.userId), [blocked.id]);

    // No direct conversation: neither opening it again nor writing in the old one.
    assertProblem(
      await blocked.client.post("/v1/conversations", { type: "direct", userId: blocker.id }),
      403,
      "blocked",
    );
    assertProblem(
      await blocked.client.post(`/v1/conversations/${dm}/messages`, {
        clientMsgId: "x1",
        text: "let me explain",
      }),
      403,
      "blocked",
    );
    const sock = await WsClient.connect(s.url, blocked.accessToken);
    const ack = await sock.request({
      type: "message.send",
      conversationId: dm,
      clientMsgId: "x2",
      text: "over the socket",
    });
    assert.equal(ack.ok, false);
    assert.equal(ack.error.code, "blocked");
    // The blocker may still write to them.
    await sendMessage(blocker, dm, { text: "I said no" });

    // No group adds, neither into an existing group nor a new one.
    const theirs = await createGroup(blocked, "Theirs", [other]);
    assertProblem(
      await blocked.client.post(`/v1/conversations/${theirs.id}/members`, {
        userIds: [blocker.id],
      }),
      403,
      "blocked",
    );
    assertProblem(
      await blocked.client.post("/v1/conversations", {
        type: "group",
        name: "Trap",
        memberIds: [blocker.id, other.id],
      }),
      403,
      "blocked",
    );

    // An invite link to a group the blocker owns still works: only direct reach is refused.
    const owned = await createGroup(blocker, "Open house", [other]);
    const link = ok(await blocker.client.post(`/v1/conversations/${owned.id}/invites`, {}), 201)
      .body;
    ok(await blocked.client.post(`/v1/invites/${link.code}/join`));

    // The profile: no presence, last seen, avatar or status. Others still see them.
    const seen = ok(await blocked.client.get(`/v1/users/${blocker.id}`)).body;
    assert.deepEqual(Object.keys(seen).sort(), ["displayName", "id", "username"]);
    const byOther = ok(await other.client.get(`/v1/users/${blocker.id}`)).body;
    assert.equal(byOther.statusText, "busy");
    assert.ok(byOther.presence);
    const found = ok(await blocked.client.get(`/v1/users?q=${blocker.username}`)).body.users;
    assert.equal(found[0].presence, undefined, "search shows the same");

    // In the shared group both still see messages; the blocker's copies are flagged.
    const ws = await WsClient.connect(s.url, blocker.accessToken);
    const m = await sendMessage(blocked, group.id, { text: "hello group" });
    const live = await ws.next((f) => f.event === "message.created" && f.data.id === m.id);
    assert.equal(live.data.senderBlocked, true);
    const history = ok(await blocker.client.get(`/v1/conversations/${group.id}/messages`)).body
      .messages;
    assert.equal(history.find((x: any) => x.id === m.id).senderBlocked, true);
    const forOther = ok(await other.client.get(`/v1/conversations/${group.id}/messages`)).body
      .messages;
    assert.equal(forOther.find((x: any) => x.id === m.id).senderBlocked, undefined);
    const mine = await sendMessage(blocker, group.id, { text: "blocker speaks" });
    const theirView = ok(await blocked.client.get(`/v1/conversations/${group.id}/messages`)).body
      .messages;
    assert.equal(theirView.find((x: any) => x.id === mine.id).text, "blocker speaks");

    // No typing from them: the other member's typing arrives, theirs never did before it.
    await sock.request({ type: "typing", conversationId: group.id, state: "start" });
    const otherSock = await WsClient.connect(s.url, other.accessToken);
    await otherSock.request({ type: "typing", conversationId: group.id, state: "start" });
    await ws.next((f) => f.event === "typing" && f.data.userId === other.id);
    assert.ok(
      !ws.events(group.id).some((f) => f.event === "typing" && f.data.userId === blocked.id),
      "no typing from the blocked user",
    );

    // Unblocking lifts it all.
    ok(await blocker.client.delete(`/v1/users/me/blocks/${blocked.id}`), 204);
    await sendMessage(blocked, dm, { text: "thanks" });
    assert.ok(ok(await blocked.client.get(`/v1/users/${blocker.id}`)).body.presence);
    const after = await sendMessage(blocked, group.id, { text: "again" });
    const again = await ws.next((f) => f.event === "message.created" && f.data.id === after.id);
    assert.equal(again.data.senderBlocked, undefined, "the socket learned of the unblock");

    await Promise.all([sock.close(), ws.close(), otherSock.close()]);
  },
);

serverTest("blocking: presence does not cross a block, either way", async (s) => {
  const [a, b, c] = await registerUsers(s.url, 3);
  await createGroup(c, "All three", [a, b]);
  ok(await a.client.put(`/v1/users/me/blocks/${b.id}`), 204);
  const cSock = await WsClient.connect(s.url, c.accessToken);
  const aSock = await WsClient.connect(s.url, a.accessToken);
  await cSock.next((f) => f.event === "presence" && f.data.userId === a.id);

  // b comes online: c hears of it, a (who blocks b) does not.
  const bSock = await WsClient.connect(s.url, b.accessToken);
  await cSock.next((f) => f.event === "presence" && f.data.userId === b.id);
  await aSock.request({ type: "ping" });
  assert.ok(!aSock.frames.some((f) => f.event === "presence" && f.data.userId === b.id));

  // a changes presence: c hears of it, b (blocked by a) does not.
  await aSock.request({ type: "presence", presence: "away" });
  await cSock.next((f) =>
    f.event === "presence" && f.data.userId === a.id && f.data.presence === "away"
  );
  await bSock.request({ type: "ping" });
  assert.ok(!bSock.frames.some((f) => f.event === "presence" && f.data.userId === a.id));
  await Promise.all([aSock.close(), bSock.close(), cSock.close()]);
});

serverTest("blocking: bad requests", async (s) => {
  const [a] = await registerUsers(s.url, 1);
  assertProblem(await a.client.put(`/v1/users/me/blocks/${a.id}`), 400, "validation_failed");
  assertProblem(await a.client.put("/v1/users/me/blocks/nobody"), 404, "not_found");
  ok(await a.client.delete("/v1/users/me/blocks/nobody"), 204);
});
