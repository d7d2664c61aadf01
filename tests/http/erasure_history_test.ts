import assert from "node:assert/strict";
import { applyEvent, fetchState, type State } from "../support/event_state.ts";
import { uploadSettled } from "../support/media.ts";
import {
  createGroup,
  registerUser,
  sendMessage,
  serverTest,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

function react(user: TestUser, conversationId: string, messageId: string, emoji: string) {
  return user.client.put(
    `/v1/conversations/${conversationId}/messages/${messageId}/reactions/${
      encodeURIComponent(emoji)
    }`,
  );
}

/** Waits until `ws` received the events of `conversationId` up to `seq` and applies them. */
async function catchUp(ws: WsClient, conversationId: string, state: State, seq: number) {
  await ws.next((f) => f.type === "event" && f.conversationId === conversationId && f.seq === seq);
  let s = state;
  for (const e of ws.events(conversationId).filter((e) => e.seq > state.lastSeq)) {
    s = applyEvent(s, e);
  }
  return s;
}

serverTest(
  "after an erasure others' history keeps its shape: tombstones at the same seqs, system messages, ownership passed on, and events a client applies equal a fresh fetch",
  async (s) => {
    const [alice, bob, carol] = [
      await registerUser(s.url),
      await registerUser(s.url),
      await registerUser(s.url),
    ];
    const group = (await createGroup(alice, "Book club", [bob, carol])).id;
    await alice.client.patch(`/v1/conversations/${group}/members/${carol.id}`, {
      role: "admin",
    });
    const direct = (await carol.client.post("/v1/conversations", {
      type: "direct",
      userId: alice.id,
    })).body.id;
    const a1 = await sendMessage(alice, group, { text: "first from alice" });
    const b1 = await sendMessage(bob, group, { text: "reply from bob", replyTo: a1.id });
    const doc = await uploadSettled(alice.client, new TextEncoder().encode("notes to share"), {
      type: "text/plain",
      filename: "notes.txt",
    });
    const a2 = await sendMessage(alice, group, { text: "with a file", mediaIds: [doc.id] });
    await sendMessage(carol, group, { text: "carol here" });
    await react(alice, group, b1.id, "👍");
    await react(bob, group, a1.id, "🎉");
    await react(carol, group, b1.id, "👍");
    await sendMessage(alice, direct, { text: "just for carol" });
    await sendMessage(carol, direct, { text: "and back" });

    const ws = await WsClient.connect(s.url, carol.accessToken);
    const before = await fetchState(carol, group);
    const directBefore = await fetchState(carol, direct);
    const res = await alice.client.request("DELETE", "/v1/users/me", {
      password: alice.password,
    });
    assert.equal(res.status, 204);

    const after = await fetchState(carol, group);
    assert.deepEqual(
      await catchUp(ws, group, before, after.lastSeq),
      after,
      "old state + events = fresh fetch (group)",
    );
    const directAfter = await fetchState(carol, direct);
    assert.deepEqual(
      await catchUp(ws, direct, directBefore, directAfter.lastSeq),
      directAfter,
      "old state + events = fresh fetch (direct)",
    );

    // Shapes: the same messages at the same seqs, alice's as tombstones; system messages kept.
    const bySeq = new Map(after.messages.map((m) => [m.seq, m]));
    for (const m of before.messages) {
      const now = bySeq.get(m.seq);
      assert.equal(now?.id, m.id, `seq ${m.seq} still holds ${m.id}`);
      if (m.kind === "system") assert.deepEqual(now, m, "system messages are untouched");
    }
    const history = (await carol.client.get(`/v1/conversations/${group}/messages`)).body.messages;
    const find = (id: string) => history.find((m: any) => m.id === id);
    for (const id of [a1.id, a2.id]) {
      const tomb = find(id);
      assert.equal(tomb.senderId, alice.id, "a tombstone keeps its author's id");
      assert.ok(tomb.deletedAt);
      assert.equal(tomb.text, undefined);
      assert.deepEqual(tomb.media, []);
      assert.deepEqual(tomb.reactions, []);
    }
    assert.equal(find(b1.id).replyTo, a1.id, "a reply still points at the tombstone");
    assert.deepEqual(find(b1.id).reactions, [{ emoji: "👍", count: 1, me: true }]);
    const left = history.at(-1);
    assert.equal(left.kind, "system");
    assert.equal(left.system.action, "member.left");
    assert.equal(left.system.actorId, alice.id);
    const leftEvent = ws.events(group).find((e) => e.event === "member.removed");
    assert.equal(leftEvent?.data.reason, "account_deleted");

    // Ownership passed on as when an owner leaves: to the admin.
    const members = (await carol.client.get(`/v1/conversations/${group}/members`)).body.members;
    assert.deepEqual(
      members.map((m: any) => [m.userId, m.role]).sort(),
      [[bob.id, "member"], [carol.id, "owner"]].sort(),
    );
    const conv = (await carol.client.get(`/v1/conversations/${group}`)).body;
    assert.equal(conv.memberCount, 2);
    assert.equal(conv.myRole, "owner");

    // The direct conversation stays for carol, with a deleted peer.
    const d = (await carol.client.get(`/v1/conversations/${direct}`)).body;
    assert.equal(d.memberCount, 1);
    assert.deepEqual(d.peer, {
      id: alice.id,
      username: "deleted",
      displayName: "Deleted account",
      deleted: true,
    });
    assert.equal(d.lastMessage.kind, "system");
    const dm = (await carol.client.get(`/v1/conversations/${direct}/messages`)).body.messages;
    assert.deepEqual(
      dm.filter((m: any) => m.kind !== "system").map((m: any) => m.text),
      [undefined, "and back"],
    );
    assert.equal((await carol.client.get(`/v1/media/${doc.id}`)).status, 404);
    await ws.close();
  },
);
