import assert from "node:assert/strict";
import { AppError, forbidden } from "../../src/domain/errors.ts";
import { newId } from "../../src/ids.ts";
import { addUser, directInput, groupInput, reactionChange, textChange, tick } from "./_fixtures.ts";
import type { Change } from "../../src/store/store.ts";
import type { ContractTest } from "./store_contract.ts";

export function messageContract(test: ContractTest): void {
  test("votes replace a user's votes on a live poll; deleting the poll removes them", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const poll = textChange(c.id, a.id);
    const ins = poll.mutations[0] as Extract<Change["mutations"][number], { op: "insertMessage" }>;
    ins.message = { ...ins.message, kind: "poll", poll: { multiple: true, anonymous: false } };
    await store.log.commit(poll);
    const id = poll.messageId!;
    assert.deepEqual((await store.messages.getMessage(c.id, id))!.poll, {
      multiple: true,
      anonymous: false,
    });
    const vote = (userId: string, optionIds: string[]) =>
      store.log.commit({
        conversationId: c.id,
        event: "message.updated",
        actorId: userId,
        messageId: id,
        at: tick(),
        mutations: [{ op: "setVotes", messageId: id, userId, optionIds, at: tick() }],
      });
    assert.equal((await vote(a.id, ["o1", "o2"])).status, "committed");
    assert.equal((await vote(a.id, ["o2", "o1"])).status, "unchanged", "the same set");
    assert.equal((await vote(b.id, ["o2"])).status, "committed");
    assert.deepEqual((await store.messages.pollVotes([id])).get(id), [
      { optionId: "o1", userIds: [a.id] },
      { optionId: "o2", userIds: [a.id, b.id] },
    ]);
    assert.equal((await vote(a.id, [])).status, "committed", "withdrawn");
    const close = () =>
      store.log.commit({
        conversationId: c.id,
        event: "message.updated",
        actorId: null,
        messageId: id,
        at: tick(),
        mutations: [{ op: "closePoll", messageId: id }],
      });
    assert.equal((await close()).status, "committed");
    assert.equal((await close()).status, "unchanged", "closed already");
    assert.equal((await store.messages.getMessage(c.id, id))!.poll?.closed, true);
    assert.deepEqual((await store.messages.pollVotes([id])).get(id), [
      { optionId: "o2", userIds: [b.id] },
    ]);
    assert.deepEqual(
      (await store.messages.listUserVotes(b.id)).map((v) => [v.messageId, v.optionIds]),
      [[id, ["o2"]]],
    );
    const text = textChange(c.id, a.id);
    await store.log.commit(text);
    const onText = await store.log.commit({
      conversationId: c.id,
      event: "message.updated",
      actorId: a.id,
      messageId: text.messageId,
      at: tick(),
      mutations: [{
        op: "setVotes",
        messageId: text.messageId!,
        userId: a.id,
        optionIds: ["o1"],
        at: tick(),
      }],
    });
    assert.equal(onText.status, "unchanged", "not a poll");
    await store.log.commit({
      conversationId: c.id,
      event: "message.deleted",
      actorId: a.id,
      messageId: id,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId: id, deletedAt: tick() }],
    });
    assert.equal((await store.messages.pollVotes([id])).size, 0);
  });

  test("mentions: unread counts per member and the mentions feed, newest first", async (store) => {
    const [a, b, c] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c.id]),
    );
    const mention = (sender: string, mentions: string[], mentionsAll = false) => {
      const ch = textChange(g.id, sender);
      const ins = ch.mutations[0] as Extract<Change["mutations"][number], { op: "insertMessage" }>;
      ins.message = { ...ins.message, mentions, ...(mentionsAll ? { mentionsAll: true } : {}) };
      return ch;
    };
    const named = mention(a.id, [b.id, a.id]);
    const all = mention(c.id, [], true);
    const both = mention(c.id, [b.id], true);
    for (const ch of [named, all, mention(a.id, [])]) await store.log.commit(ch);
    const count = async (userId: string) =>
      (await store.conversations.conversationItem(userId, g.id))!.unreadMentionCount;
    assert.equal(await count(b.id), 2, "named and @all");
    await store.log.commit(both);
    assert.equal(await count(b.id), 3, "a message naming them and everyone counts once");
    assert.equal(await count(a.id), 2, "both @all messages; naming oneself does not count");
    assert.equal(await count(c.id), 0, "one's own @all does not count");
    assert.equal((await store.messages.getMessage(g.id, all.messageId!))!.mentionsAll, true);
    const feed = await store.messages.listMentions(b.id, { limit: 10 });
    assert.deepEqual(feed.map((m) => m.id), [both.messageId, all.messageId, named.messageId]);
    const page = await store.messages.listMentions(b.id, {
      limit: 10,
      before: { createdAt: feed[0].createdAt, id: feed[0].id },
    });
    assert.deepEqual(page.map((m) => m.id), [all.messageId, named.messageId]);
    await store.log.commit({
      conversationId: g.id,
      event: "message.deleted",
      actorId: a.id,
      messageId: named.messageId,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId: named.messageId!, deletedAt: tick() }],
    });
    assert.equal(await count(b.id), 2, "a deleted mention goes");
    await store.messages.hideMessage(
      b.id,
      (await store.messages.getMessage(g.id, both.messageId!))!,
    );
    assert.equal(await count(b.id), 1, "a mention deleted for oneself goes too");
    assert.deepEqual((await store.messages.listMentions(b.id, { limit: 10 })).map((m) => m.id), [
      both.messageId,
      all.messageId,
    ], "the store's feed keeps hidden ones: the service leaves them out");
  });

  test("pins commit with their event, respect the limit, and go when the message is deleted", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const sent = [textChange(c.id, a.id), textChange(c.id, b.id), textChange(c.id, a.id)];
    for (const s of sent) await store.log.commit(s);
    const [m1, m2, m3] = sent.map((s) => s.messageId!);
    const limit = { kind: "pinLimit" as const, max: 2, error: forbidden("too many pins") };
    const pin = (messageId: string, pinned = true) =>
      store.log.commit({
        conversationId: c.id,
        event: "pin.updated",
        actorId: a.id,
        messageId: newId(),
        system: {
          action: pinned ? "message.pinned" : "message.unpinned",
          actorId: a.id,
          messageId,
        },
        data: { messageId, pinned, by: a.id },
        at: tick(),
        expect: pinned ? [limit] : [],
        mutations: [
          pinned ? { op: "pinMessage", messageId, userId: a.id, at: tick() } : {
            op: "unpinMessage",
            messageId,
          },
        ],
      });
    assert.equal((await pin(m1)).status, "committed");
    assert.equal((await pin(m1)).status, "unchanged", "pinned already");
    assert.equal((await pin(m2)).status, "committed");
    const head = (await store.conversations.getConversation(c.id))!.lastSeq;
    await assert.rejects(pin(m3), (e: AppError) => e.status === 403);
    assert.equal((await store.conversations.getConversation(c.id))!.lastSeq <= head + 1, true);
    assert.deepEqual((await store.messages.listPins(c.id)).map((p) => p.messageId), [m2, m1]);
    assert.equal((await pin(m2, false)).status, "committed");
    assert.equal((await pin(m2, false)).status, "unchanged", "not pinned");
    assert.equal((await pin(newId())).status, "unchanged", "no such message");
    await store.log.commit({
      conversationId: c.id,
      event: "message.deleted",
      actorId: a.id,
      messageId: m1,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId: m1, deletedAt: tick() }],
    });
    assert.deepEqual(await store.messages.listPins(c.id), [], "deleting unpins");
    assert.equal((await pin(m1)).status, "unchanged", "a deleted message cannot be pinned");
  });

  test("edits keep the text as first sent and each edit's text; deleting removes the history", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const sent = textChange(c.id, a.id, "e-1");
    await store.log.commit(sent);
    const id = sent.messageId!;
    assert.deepEqual(await store.messages.messageVersions(id), [], "never edited");
    const edit = (n: number, at: string) =>
      store.log.commit({
        conversationId: c.id,
        event: "message.updated",
        actorId: a.id,
        messageId: id,
        at,
        mutations: [{
          op: "editMessage",
          messageId: id,
          body: { keyId: "k1", blob: new Uint8Array([n]) },
          editedAt: at,
        }],
      });
    const [t1, t2] = [tick(), tick()];
    await edit(1, t1);
    await edit(2, t2);
    const versions = await store.messages.messageVersions(id);
    assert.deepEqual(versions.map((v) => v.version), [0, 1, 2]);
    assert.deepEqual(versions.map((v) => v.editedAt), [sent.at, t1, t2]);
    assert.deepEqual(
      versions.map((v) => [...v.body.blob]),
      [[...new TextEncoder().encode("sealed:e-1")], [1], [2]],
    );
    await store.log.commit({
      conversationId: c.id,
      event: "message.deleted",
      actorId: a.id,
      messageId: id,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId: id, deletedAt: tick() }],
    });
    assert.deepEqual(await store.messages.messageVersions(id), [], "gone with the message");
  });

  test("parallel appends to one conversation get distinct, gap-free, increasing seqs", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const { conversation: other } = await store.conversations.createConversation(
      groupInput(a.id, [b.id]),
    );
    const changes = Array.from(
      { length: 200 },
      (_, i) => textChange(i % 3 ? c.id : other.id, i % 2 ? a.id : b.id),
    );
    const results = await Promise.all(changes.map((ch) => store.log.commit(ch)));
    const seqs = (id: string) =>
      results.filter((_r, i) => changes[i].conversationId === id).map((r) =>
        r.status === "committed" ? r.event.seq : -1
      );
    for (const conv of [c, other]) {
      const got = seqs(conv.id).sort((x, y) => x - y);
      assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 2), "gap-free from 2");
      const log = await store.log.listEvents(conv.id, { after: 0, limit: 500 });
      assert.deepEqual(log.events.map((e) => e.seq), [1, ...got], "the log is in seq order");
      assert.equal((await store.conversations.getConversation(conv.id))!.lastSeq, got.at(-1));
    }
  });

  test("appendEvent() returns the same message for a repeated clientMsgId", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const first = await store.log.commit(textChange(c.id, a.id, "cm-1"));
    assert.equal(first.status, "committed");
    const again = await store.log.commit(textChange(c.id, a.id, "cm-1"));
    assert.equal(again.status, "duplicate");
    assert.equal(
      again.status === "duplicate" && again.message.id,
      first.status === "committed" && first.message!.id,
    );
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => store.log.commit(textChange(c.id, b.id, "cm-race"))),
    );
    assert.equal(
      racing.filter((r) => r.status === "committed").length,
      1,
      "racing retries store one",
    );
    const fromOther = await store.log.commit(textChange(c.id, b.id, "cm-1"));
    assert.equal(
      fromOther.status,
      "committed",
      "the same clientMsgId from another sender is another message",
    );
    const page = await store.messages.listMessages(c.id, a.id, { limit: 50 });
    assert.equal(page.messages.filter((m) => m.clientMsgId === "cm-1").length, 2);
    assert.equal((await store.messages.getMessageByClientId(a.id, "cm-1"))!.senderId, a.id);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id]),
    );
    // The key is the sender's across conversations: the caller sees where the first one went.
    const elsewhere = await store.log.commit(textChange(g.id, a.id, "cm-1"));
    assert.equal(elsewhere.status, "duplicate");
    assert.equal(elsewhere.status === "duplicate" && elsewhere.message.conversationId, c.id);
    assert.equal((await store.conversations.getConversation(g.id))!.lastSeq, 1, "no seq consumed");
  });

  test("a repeated clientMsgId returns the first message even after the sender left", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(b.id, [a.id]),
    );
    const first = await store.log.commit(textChange(g.id, a.id, "before-leaving"));
    assert.equal(first.status, "committed");
    await store.log.commit({
      conversationId: g.id,
      event: "member.removed",
      actorId: a.id,
      at: tick(),
      mutations: [{ op: "removeMember", userId: a.id }],
    });
    const again = await store.log.commit(textChange(g.id, a.id, "before-leaving"));
    assert.equal(again.status, "duplicate");
    assert.equal(
      again.status === "duplicate" && again.message.id,
      first.status === "committed" && first.message!.id,
    );
    await assert.rejects(
      store.log.commit(textChange(g.id, a.id, "after-leaving")),
      (e: AppError) => e.status === 404,
    );
  });

  test("a non-member cannot append and no seq is consumed", async (store) => {
    const [a, b, x] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    await assert.rejects(
      store.log.commit(textChange(c.id, x.id)),
      (e: AppError) => e.status === 404,
    );
    assert.equal((await store.conversations.getConversation(c.id))!.lastSeq, 1);
    assert.equal(await store.messages.getMessageByClientId(x.id, "anything"), null);
  });

  test("listMessages(): newest page, before and after, ascending, with hasMore; hidden per viewer", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    for (let i = 0; i < 7; i++) await store.log.commit(textChange(c.id, a.id));
    // seqs: 1 (system), 2..8 messages
    const newest = await store.messages.listMessages(c.id, a.id, { limit: 3 });
    assert.deepEqual(newest.messages.map((m) => m.seq), [6, 7, 8]);
    assert.equal(newest.hasMore, true);
    const before = await store.messages.listMessages(c.id, a.id, { before: 6, limit: 3 });
    assert.deepEqual(before.messages.map((m) => m.seq), [3, 4, 5]);
    const oldest = await store.messages.listMessages(c.id, a.id, { before: 3, limit: 3 });
    assert.deepEqual(oldest.messages.map((m) => m.seq), [1, 2]);
    assert.equal(oldest.hasMore, false);
    const after = await store.messages.listMessages(c.id, a.id, { after: 2, limit: 3 });
    assert.deepEqual(after.messages.map((m) => m.seq), [3, 4, 5]);
    assert.equal(after.hasMore, true);
    assert.equal(
      (await store.messages.listMessages(c.id, a.id, { after: 5, limit: 3 })).hasMore,
      false,
    );
    const hidden = newest.messages[2];
    await store.messages.hideMessage(a.id, hidden);
    await store.messages.hideMessage(a.id, hidden);
    const probe = [hidden.id, newest.messages[1].id];
    assert.deepEqual(await store.messages.hiddenMessageIds(a.id, probe), new Set([hidden.id]));
    assert.deepEqual(await store.messages.hiddenMessageIds(b.id, probe), new Set());
    assert.deepEqual(
      (await store.messages.listMessages(c.id, a.id, { limit: 2 })).messages.map((m) => m.seq),
      [6, 7],
    );
    assert.deepEqual(
      (await store.messages.listMessages(c.id, b.id, { limit: 2 })).messages.map((m) => m.seq),
      [7, 8],
    );
  });

  test("edits replace the body; erasing leaves a tombstone without body, media or reactions", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const sent = textChange(c.id, a.id);
    await store.log.commit(sent);
    const id = sent.messageId!;
    const notAuthor = forbidden("not yours");
    await assert.rejects(
      store.log.commit({
        conversationId: c.id,
        event: "message.updated",
        actorId: b.id,
        messageId: id,
        at: tick(),
        expect: [{ kind: "message", messageId: id, senderId: b.id, live: true, error: notAuthor }],
        mutations: [{
          op: "editMessage",
          messageId: id,
          body: { keyId: "k1", blob: new Uint8Array([1]) },
          editedAt: tick(),
        }],
      }),
      (e) => e === notAuthor,
    );
    const editedAt = tick();
    const edit = await store.log.commit({
      conversationId: c.id,
      event: "message.updated",
      actorId: a.id,
      messageId: id,
      at: editedAt,
      expect: [{ kind: "message", messageId: id, senderId: a.id, live: true, error: notAuthor }],
      mutations: [{
        op: "editMessage",
        messageId: id,
        body: { keyId: "k2", blob: new Uint8Array([7, 7]) },
        editedAt,
      }],
    });
    assert.equal(edit.status === "committed" && edit.message!.editedAt, editedAt);
    assert.deepEqual(edit.status === "committed" && edit.message!.body, {
      keyId: "k2",
      blob: new Uint8Array([7, 7]),
    });
    await store.log.commit(reactionChange(c.id, id, b.id, "👍"));
    const erase = () =>
      store.log.commit({
        conversationId: c.id,
        event: "message.deleted",
        actorId: a.id,
        messageId: id,
        at: tick(),
        mutations: [{ op: "eraseMessage", messageId: id, deletedAt: tick() }],
      });
    const erased = await erase();
    assert.equal(erased.status, "committed");
    const tomb = await store.messages.getMessage(c.id, id);
    assert.equal(tomb!.body, null);
    assert.deepEqual(tomb!.mediaIds, []);
    assert.ok(tomb!.deletedAt);
    assert.equal((await store.messages.reactions([id])).size, 0);
    assert.equal((await erase()).status, "unchanged", "erasing twice changes nothing");
  });

  test("reactions: idempotent add and remove, aggregated per emoji in first-use order", async (store) => {
    const [a, b, c3] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c3.id]),
    );
    const sent = textChange(g.id, a.id);
    await store.log.commit(sent);
    const id = sent.messageId!;
    assert.equal(
      (await store.log.commit(reactionChange(g.id, id, b.id, "👍"))).status,
      "committed",
    );
    assert.equal(
      (await store.log.commit(reactionChange(g.id, id, b.id, "👍"))).status,
      "unchanged",
    );
    await store.log.commit(reactionChange(g.id, id, c3.id, "🎉"));
    await store.log.commit(reactionChange(g.id, id, c3.id, "👍"));
    assert.deepEqual((await store.messages.reactions([id])).get(id), [
      { emoji: "👍", userIds: [b.id, c3.id] },
      { emoji: "🎉", userIds: [c3.id] },
    ]);
    assert.equal(
      (await store.log.commit(reactionChange(g.id, id, b.id, "👍", "removeReaction"))).status,
      "committed",
    );
    assert.equal(
      (await store.log.commit(reactionChange(g.id, id, b.id, "👍", "removeReaction"))).status,
      "unchanged",
    );
    // Order follows the earliest remaining reaction of each emoji.
    assert.deepEqual((await store.messages.reactions([id])).get(id), [
      { emoji: "🎉", userIds: [c3.id] },
      { emoji: "👍", userIds: [c3.id] },
    ]);
    const missing = reactionChange(g.id, newId(), b.id, "👍");
    await assert.rejects(store.log.commit(missing), (e: AppError) => e.status === 404);
  });

  test("markers only move forward and receipts report when each member got and read a seq", async (store) => {
    const [a, b, c3] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c3.id]),
    );
    for (let i = 0; i < 3; i++) await store.log.commit(textChange(g.id, a.id)); // seqs 2,3,4
    const t1 = tick();
    assert.equal(await store.messages.advanceMarker(g.id, b.id, "delivered", 3, t1), 3);
    assert.equal(
      await store.messages.advanceMarker(g.id, b.id, "delivered", 2, tick()),
      null,
      "lower is ignored",
    );
    assert.equal(
      await store.messages.advanceMarker(g.id, b.id, "delivered", 3, tick()),
      null,
      "equal is ignored",
    );
    const t2 = tick();
    assert.equal(await store.messages.advanceMarker(g.id, b.id, "read", 4, t2), 4);
    const t3 = tick();
    await store.messages.advanceMarker(g.id, c3.id, "read", 2, t3);
    const at2 = Object.fromEntries(
      (await store.messages.receipts(g.id, 2)).map((r) => [r.userId, r]),
    );
    assert.equal(at2[b.id].deliveredAt, t1);
    assert.equal(at2[b.id].readAt, t2);
    assert.equal(at2[c3.id].deliveredAt, t3, "reading implies delivery");
    assert.equal(at2[c3.id].readAt, t3);
    const at4 = Object.fromEntries(
      (await store.messages.receipts(g.id, 4)).map((r) => [r.userId, r]),
    );
    assert.equal(at4[b.id].deliveredAt, t2);
    assert.equal(at4[c3.id].deliveredAt, null);
    assert.equal(at4[c3.id].readAt, null);
    const mb = (await store.conversations.getMember(g.id, b.id))!;
    assert.equal(mb.readSeq, 4);
    assert.equal(mb.deliveredSeq, 3);
  });

  test("listEvents() pages the log after a seq and joins the messages it points at", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const sent = [];
    for (let i = 0; i < 4; i++) {
      const ch = textChange(c.id, a.id);
      sent.push(ch.messageId!);
      await store.log.commit(ch);
    }
    const page = await store.log.listEvents(c.id, { after: 1, limit: 2 });
    assert.deepEqual(page.events.map((e) => [e.seq, e.event, e.messageId]), [
      [2, "message.created", sent[0]],
      [3, "message.created", sent[1]],
    ]);
    assert.equal(page.hasMore, true);
    assert.equal(page.messages.get(sent[0])!.seq, 2);
    const tail = await store.log.listEvents(c.id, { after: 3, limit: 10 });
    assert.deepEqual(tail.events.map((e) => e.seq), [4, 5]);
    assert.equal(tail.hasMore, false);
    assert.deepEqual((await store.log.listEvents(c.id, { after: 5, limit: 10 })).events, []);
  });
}
