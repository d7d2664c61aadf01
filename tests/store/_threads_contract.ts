import assert from "node:assert/strict";
import { addUser, groupInput, textChange, tick } from "./_fixtures.ts";
import type { Change, Store } from "../../src/store/store.ts";
import type { MessageRecord } from "../../src/domain/types.ts";
import type { ContractTest } from "./store_contract.ts";

type Insert = Extract<Change["mutations"][number], { op: "insertMessage" }>;

/** A text message commit that replies in `rootId`'s thread. */
function replyChange(
  conversationId: string,
  senderId: string,
  rootId: string,
  extra: Partial<MessageRecord> = {},
): Change {
  const ch = textChange(conversationId, senderId);
  const ins = ch.mutations[0] as Insert;
  ins.message = { ...ins.message, threadId: rootId, ...extra };
  return ch;
}

async function commitAll(store: Store, changes: Change[]): Promise<void> {
  for (const ch of changes) assert.equal((await store.log.commit(ch)).status, "committed");
}

export function threadContract(test: ContractTest): void {
  test("thread replies keep the root's summary and stay out of the main history", async (store) => {
    const [a, b, c] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c.id]),
    );
    const root = textChange(g.id, a.id);
    const rootId = root.messageId!;
    const r1 = replyChange(g.id, b.id, rootId);
    const r2 = replyChange(g.id, c.id, rootId, { alsoInConversation: true });
    const r3 = replyChange(g.id, b.id, rootId);
    await commitAll(store, [root, r1, r2, r3]);

    const stored = await store.messages.getMessage(g.id, r2.messageId!);
    assert.equal(stored!.threadId, rootId);
    assert.equal(stored!.alsoInConversation, true);
    assert.equal(
      (await store.messages.getMessage(g.id, r1.messageId!))!.alsoInConversation,
      undefined,
    );

    const main = await store.messages.listMessages(g.id, a.id, { limit: 50 });
    const ids = main.messages.map((m) => m.id);
    assert.ok(ids.includes(rootId) && ids.includes(r2.messageId!));
    assert.ok(!ids.includes(r1.messageId!) && !ids.includes(r3.messageId!), "thread-only replies");
    assert.equal(
      (await store.conversations.conversationItem(a.id, g.id))!.lastMessage!.id,
      r2.messageId,
      "the last message shown in the main history",
    );

    const summary = (await store.messages.threadSummaries([rootId, r1.messageId!])).get(rootId);
    assert.deepEqual(summary, {
      rootId,
      conversationId: g.id,
      replyCount: 3,
      lastReplyAt: (r3.mutations[0] as Insert).message.createdAt,
      lastReplySeq: summary!.lastReplySeq,
      participantIds: [b.id, c.id],
    });
    assert.ok(summary!.lastReplySeq > 0);
    assert.equal((await store.messages.threadSummaries([r1.messageId!])).size, 0);

    const page = await store.messages.listThreadReplies(g.id, rootId, a.id, { limit: 2 });
    assert.deepEqual(page.messages.map((m) => m.id), [r2.messageId, r3.messageId]);
    assert.equal(page.hasMore, true);
    const older = await store.messages.listThreadReplies(g.id, rootId, a.id, {
      limit: 2,
      before: page.messages[0].seq,
    });
    assert.deepEqual(older.messages.map((m) => m.id), [r1.messageId]);
    assert.equal(older.hasMore, false);
    const newer = await store.messages.listThreadReplies(g.id, rootId, a.id, {
      limit: 5,
      after: older.messages[0].seq,
    });
    assert.deepEqual(newer.messages.map((m) => m.id), [r2.messageId, r3.messageId]);
    assert.equal(
      (await store.messages.listThreadReplies("elsewhere", rootId, a.id, { limit: 5 })).messages
        .length,
      0,
      "a thread is read through its own conversation only",
    );
  });

  test("thread lists: activity first, per-user unread, following and read markers", async (store) => {
    const [a, b, c] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c.id]),
    );
    const t1 = textChange(g.id, a.id);
    const t2 = textChange(g.id, c.id);
    const lone = textChange(g.id, a.id);
    await commitAll(store, [t1, t2, lone]);
    const [id1, id2] = [t1.messageId!, t2.messageId!];
    const b1 = replyChange(g.id, b.id, id1);
    const c1 = replyChange(g.id, c.id, id1, { mentions: [b.id] });
    const b2 = replyChange(g.id, b.id, id2, { mentions: [a.id] });
    await commitAll(store, [b1, c1, b2]);

    const list = await store.messages.listThreads(g.id, b.id, { limit: 10 });
    assert.deepEqual(list.map((t) => t.root.id), [id2, id1], "latest reply first; no lone root");
    assert.deepEqual(list.map((t) => t.unreadCount), [0, 1], "b's own replies are read");
    assert.equal(list[1].summary.replyCount, 2);
    assert.equal(list[1].root.senderId, a.id);
    const next = await store.messages.listThreads(g.id, b.id, {
      limit: 10,
      after: { lastReplyAt: list[0].summary.lastReplyAt, rootId: list[0].root.id },
    });
    assert.deepEqual(next.map((t) => t.root.id), [id1]);
    const forA = await store.messages.listThreads(g.id, a.id, { limit: 10 });
    assert.deepEqual(forA.map((t) => t.unreadCount), [1, 2], "a has read none of the replies");

    // a wrote root 1 and is mentioned in thread 2; b and c replied; c wrote root 2.
    const followed = async (userId: string) =>
      (await store.messages.listFollowedThreads(userId, { limit: 10 })).map((t) => t.root.id);
    assert.deepEqual(await followed(a.id), [id2, id1]);
    assert.deepEqual(await followed(b.id), [id2, id1]);
    assert.deepEqual(await followed(c.id), [id2, id1]);

    const c1Seq = (await store.messages.getMessage(g.id, c1.messageId!))!.seq;
    assert.equal(await store.messages.advanceThreadMarker(g.id, id1, a.id, c1Seq), c1Seq);
    assert.equal(await store.messages.advanceThreadMarker(g.id, id1, a.id, c1Seq), null);
    assert.equal(await store.messages.advanceThreadMarker(g.id, id1, a.id, 1), null, "monotonic");
    assert.equal((await store.messages.listThreads(g.id, a.id, { limit: 10 }))[1].unreadCount, 0);
    assert.deepEqual(
      (await store.messages.listThreadMemberships(a.id)).find((m) => m.rootId === id1),
      { conversationId: g.id, rootId: id1, following: true, readSeq: c1Seq },
    );

    // A deleted reply is no longer unread, and the thread still counts its tombstone.
    await store.log.commit({
      conversationId: g.id,
      event: "message.deleted",
      actorId: b.id,
      messageId: b2.messageId,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId: b2.messageId!, deletedAt: tick() }],
    });
    const after = await store.messages.listThreads(g.id, a.id, { limit: 10 });
    assert.equal(after[0].unreadCount, 0);
    assert.equal(after[0].summary.replyCount, 1);

    // Leaving the conversation ends following its threads.
    await store.log.commit({
      conversationId: g.id,
      event: "member.removed",
      actorId: c.id,
      at: tick(),
      mutations: [{ op: "removeMember", userId: c.id }],
    });
    assert.deepEqual(await followed(c.id), []);
  });

  test("erasure forgets a user's threads; retention takes a purged root's thread", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id]),
    );
    const root = textChange(g.id, a.id);
    await commitAll(store, [root, replyChange(g.id, b.id, root.messageId!)]);
    assert.equal((await store.messages.listThreadMemberships(b.id)).length, 1);
    await store.privacy.beginErasure(b.id, {
      at: tick(),
      username: `deleted:${b.id}`,
      displayName: "Deleted",
    });
    await store.privacy.finishErasure(b.id, tick());
    assert.deepEqual(await store.messages.listThreadMemberships(b.id), []);

    await store.privacy.sweepRetention(g.id, new Date(Date.now() + 60_000).toISOString(), 100);
    assert.equal((await store.messages.threadSummaries([root.messageId!])).size, 0);
    assert.deepEqual(await store.messages.listThreads(g.id, a.id, { limit: 10 }), []);
    assert.deepEqual(await store.messages.listThreadMemberships(a.id), []);
  });
}
