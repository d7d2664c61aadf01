import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import type { Change, Store } from "../../src/store/store.ts";
import {
  addUser,
  directInput,
  groupInput,
  mediaRecord,
  reactionChange,
  session,
  textChange,
  tick,
} from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

function committedId(r: Awaited<ReturnType<Store["log"]["commit"]>>): string {
  assert.equal(r.status, "committed");
  return r.status === "committed" ? r.message!.id : "";
}

function eraseChange(conversationId: string, actorId: string, messageId: string): Change {
  return {
    conversationId,
    event: "message.deleted",
    actorId,
    messageId,
    at: tick(),
    mutations: [{ op: "eraseMessage", messageId, deletedAt: tick() }],
  };
}

/** A message carrying `mediaIds`. */
function mediaChange(conversationId: string, senderId: string, mediaIds: string[]): Change {
  const c = textChange(conversationId, senderId);
  const m = c.mutations[0];
  if (m.op === "insertMessage") Object.assign(m.message, { kind: "media", mediaIds });
  return c;
}

async function key(store: Store, userId: string) {
  return await store.accounts.ensureUserKey(userId, () =>
    Promise.resolve({
      id: newId(),
      userId,
      wrapped: new Uint8Array([1, 2, 3]),
      kekId: "kek-1",
      createdAt: tick(),
    }));
}

export function privacyContract(test: ContractTest): void {
  test("revokeUserSessions() with except leaves that session live", async (store) => {
    const u = await addUser(store);
    const [keep, other] = [session(u.id), session(u.id)];
    for (const s of [keep, other]) await store.accounts.createSession(s, newId());
    const now = new Date().toISOString();
    assert.deepEqual(await store.accounts.revokeUserSessions(u.id, now, { except: keep.id }), [
      other.id,
    ]);
    assert.deepEqual((await store.accounts.listSessions(u.id, now)).map((s) => s.id), [keep.id]);
  });

  test("allSessions() lists live, revoked and expired sessions, newest first", async (store) => {
    const u = await addUser(store);
    const s1 = session(u.id);
    const s2 = session(u.id, { expiresAt: "2000-01-01T00:00:00.000Z" });
    const s3 = session(u.id);
    for (const s of [s1, s2, s3]) await store.accounts.createSession(s, newId());
    await store.accounts.revokeSession(s3.id, tick());
    assert.deepEqual((await store.privacy.allSessions(u.id)).map((s) => s.id), [
      s3.id,
      s2.id,
      s1.id,
    ]);
    assert.deepEqual(await store.privacy.allSessions("nobody"), []);
  });

  test("listSentMessages() pages a user's live messages by conversation and seq", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: d } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id]),
    );
    const sent: string[] = [];
    for (const c of [d, g, d, g]) {
      sent.push(committedId(await store.log.commit(textChange(c.id, a.id))));
    }
    await store.log.commit(textChange(d.id, b.id));
    const erased = committedId(await store.log.commit(textChange(g.id, a.id)));
    await store.log.commit(eraseChange(g.id, a.id, erased));
    const all = await store.privacy.listSentMessages(a.id, { limit: 100 });
    const order = [...all].sort((x, y) =>
      x.conversationId === y.conversationId
        ? x.seq - y.seq
        : (x.conversationId < y.conversationId ? -1 : 1)
    );
    assert.deepEqual(all.map((m) => m.id), order.map((m) => m.id), "(conversation, seq) order");
    assert.deepEqual(all.map((m) => m.id).sort(), [...sent].sort(), "no system or erased ones");
    assert.ok(all.every((m) => m.senderId === a.id && m.body !== null));
    const first = await store.privacy.listSentMessages(a.id, { limit: 3 });
    const last = first.at(-1)!;
    const rest = await store.privacy.listSentMessages(a.id, {
      limit: 3,
      after: { conversationId: last.conversationId, seq: last.seq },
    });
    assert.deepEqual([...first, ...rest].map((m) => m.id), all.map((m) => m.id));
  });

  test("listUserReactions() pages a user's reactions with their conversations", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: d } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const m1 = committedId(await store.log.commit(textChange(d.id, b.id)));
    const m2 = committedId(await store.log.commit(textChange(d.id, b.id)));
    for (const [m, e] of [[m1, "👍"], [m1, "🎉"], [m2, "👍"]]) {
      await store.log.commit(reactionChange(d.id, m, a.id, e));
    }
    await store.log.commit(reactionChange(d.id, m1, b.id, "😀"));
    const all = await store.privacy.listUserReactions(a.id, { limit: 10 });
    assert.equal(all.length, 3);
    assert.ok(all.every((r) => r.conversationId === d.id && typeof r.createdAt === "string"));
    const keys = all.map((r) => `${r.messageId}:${r.emoji}`);
    assert.deepEqual(keys, [...keys].sort(), "(messageId, emoji) order");
    const first = await store.privacy.listUserReactions(a.id, { limit: 2 });
    const rest = await store.privacy.listUserReactions(a.id, {
      limit: 2,
      after: { messageId: first[1].messageId, emoji: first[1].emoji },
    });
    assert.deepEqual([...first, ...rest], all);
  });

  test("listMediaByOwner() pages one owner's media by id", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const mine = [mediaRecord(a.id), mediaRecord(a.id), mediaRecord(a.id)];
    for (const m of [...mine, mediaRecord(b.id)]) await store.media.createMedia(m);
    const ids = mine.map((m) => m.id).sort();
    const first = await store.privacy.listMediaByOwner(a.id, { limit: 2 });
    assert.deepEqual(first.map((m) => m.id), ids.slice(0, 2));
    assert.deepEqual(first[0], mine.find((m) => m.id === ids[0]));
    const rest = await store.privacy.listMediaByOwner(a.id, { limit: 2, afterId: ids[1] });
    assert.deepEqual(rest.map((m) => m.id), ids.slice(2));
  });

  test("beginErasure() scrubs the profile, frees the username, destroys keys and sessions", async (store) => {
    const u = await addUser(store, "erasable");
    await store.accounts.updateUser(u.id, {
      statusText: "hello",
      avatarMediaId: "m1",
      role: "admin",
    });
    const k = await key(store, u.id);
    const s = session(u.id);
    await store.accounts.createSession(s, "refresh-hash");
    const at = tick();
    const started = await store.privacy.beginErasure(u.id, {
      at,
      username: `deleted:${u.id}`,
      displayName: "Deleted account",
    });
    assert.deepEqual(started, { keyIds: [k.id] });
    const after = (await store.accounts.getUser(u.id))!;
    assert.equal(after.deletedAt, at);
    assert.equal(after.username, `deleted:${u.id}`);
    assert.equal(after.displayName, "Deleted account");
    assert.equal(after.statusText, null);
    assert.equal(after.avatarMediaId, null);
    assert.equal(after.role, "user");
    assert.equal(after.lastSeenAt, null);
    assert.equal(await store.accounts.getPasswordHash(u.id), null);
    assert.equal(await store.accounts.getUserByUsername("erasable"), null);
    assert.equal(await store.accounts.getUserKey(k.id), null, "the data key is destroyed");
    assert.equal(await store.accounts.getSession(s.id), null, "sessions are deleted");
    assert.equal(
      (await store.accounts.rotateRefreshToken("refresh-hash", "h2", tick(), tick())).status,
      "invalid",
    );
    assert.deepEqual(await store.accounts.searchUsers("deleted", { limit: 5 }), []);
    assert.equal((await addUser(store, "erasable")).username, "erasable", "the name is free");
    const again = await store.privacy.beginErasure(u.id, {
      at: tick(),
      username: `deleted:${u.id}`,
      displayName: "Deleted account",
    });
    assert.deepEqual(again, { keyIds: [] });
    assert.equal((await store.accounts.getUser(u.id))!.deletedAt, at, "the first deletedAt stays");
    assert.equal(
      await store.privacy.beginErasure("nobody", { at, username: "deleted:x", displayName: "x" }),
      null,
    );
  });

  test("finishErasure() erases what is left, drops reactions and completes the erasure", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: d } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(b.id, [a.id]),
    );
    const media = mediaRecord(a.id, { status: "ready" });
    await store.media.createMedia(media);
    const left = committedId(await store.log.commit(mediaChange(d.id, a.id, [media.id])));
    const theirs = committedId(await store.log.commit(textChange(g.id, b.id)));
    await store.log.commit(reactionChange(g.id, theirs, a.id, "👍"));
    await store.log.commit(reactionChange(d.id, left, b.id, "🎉"));
    await store.messages.hideMessage(a.id, (await store.messages.getMessage(g.id, theirs))!);
    const at = tick();
    await store.privacy.beginErasure(a.id, {
      at,
      username: `deleted:${a.id}`,
      displayName: "Deleted",
    });
    assert.deepEqual(await store.privacy.pendingErasures("2999-01-01T00:00:00.000Z", 10), [a.id]);
    assert.deepEqual(await store.privacy.pendingErasures(at, 10), [], "only erasures begun before");
    const done = await store.privacy.finishErasure(a.id, tick());
    assert.deepEqual(done, { messages: 1, reactions: 1 });
    const tomb = (await store.messages.getMessage(d.id, left))!;
    assert.ok(tomb.deletedAt);
    assert.equal(tomb.body, null);
    assert.deepEqual(tomb.mediaIds, []);
    assert.equal(tomb.senderId, a.id, "the tombstone keeps its author");
    assert.equal(await store.media.isMediaReferenced(media.id), false);
    assert.deepEqual(await store.messages.reactions([theirs, left]), new Map());
    assert.deepEqual(await store.messages.hiddenMessageIds(a.id, [theirs]), new Set());
    assert.deepEqual(await store.privacy.listSentMessages(a.id, { limit: 10 }), []);
    assert.deepEqual(await store.privacy.pendingErasures("2999-01-01T00:00:00.000Z", 10), []);
    await store.privacy.scrub();
  });

  test("a direct conversation still names a peer who left", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: d } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const r = await store.log.commit({
      conversationId: d.id,
      event: "member.removed",
      actorId: b.id,
      messageId: newId(),
      system: { action: "member.left", actorId: b.id },
      data: { userId: b.id },
      mutations: [{ op: "removeMember", userId: b.id }],
      at: tick(),
    });
    assert.equal(r.status, "committed");
    const item = (await store.conversations.conversationItem(a.id, d.id))!;
    assert.equal(item.peerId, b.id);
    assert.equal(item.conversation.memberCount, 1);
    const [listed] = await store.conversations.listConversations(a.id, {
      archived: false,
      limit: 5,
    });
    assert.equal(listed.peerId, b.id);
    assert.equal(await store.conversations.conversationItem(b.id, d.id), null);
  });
}
