import assert from "node:assert/strict";
import type { MessageRecord } from "../../src/domain/types.ts";
import type { Change, Store } from "../../src/store/store.ts";
import { newId } from "../../src/ids.ts";
import { addUser, groupInput, mediaRecord, textChange, tick } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

async function send(store: Store, change: Change): Promise<MessageRecord> {
  const r = await store.log.commit(change);
  assert.equal(r.status, "committed");
  return r.status === "committed" ? r.message! : undefined!;
}

function erase(conversationId: string, actorId: string, messageId: string): Change {
  const at = tick();
  return {
    conversationId,
    event: "message.deleted",
    actorId,
    messageId,
    at,
    mutations: [{ op: "eraseMessage", messageId, deletedAt: at }],
  };
}

/** A group with its owner and one message carrying a ready media item. */
async function setUp(store: Store) {
  const owner = await addUser(store);
  const { conversation } = await store.conversations.createConversation(
    groupInput(owner.id, []),
  );
  const media = mediaRecord(owner.id, { status: "ready" });
  await store.media.createMedia(media);
  const change = textChange(conversation.id, owner.id);
  const insert = change.mutations[0];
  if (insert.op === "insertMessage") insert.message.mediaIds = [media.id];
  const withMedia = await send(store, change);
  const plain = await send(store, textChange(conversation.id, owner.id));
  return { owner, conversation, media, withMedia, plain };
}

/** Conversation archives and legal holds. */
export function archiveContract(test: ContractTest): void {
  test("archive: archivePage lists every message in seq order, tombstones included", async (store) => {
    const { owner, conversation, withMedia, plain } = await setUp(store);
    await send(store, erase(conversation.id, owner.id, withMedia.id));
    const all = await store.archive.archivePage(conversation.id, 0, 10);
    assert.deepEqual(all.map((m) => m.kind), ["system", "text", "text"]);
    assert.deepEqual(all.map((m) => m.seq), [...all.map((m) => m.seq)].sort((a, b) => a - b));
    assert.equal(all[1].id, withMedia.id);
    assert.ok(all[1].deletedAt && all[1].body === null, "the tombstone");
    const after = await store.archive.archivePage(conversation.id, all[1].seq, 1);
    assert.deepEqual(after.map((m) => m.id), [plain.id]);
    assert.deepEqual(await store.archive.archivePage(conversation.id, plain.seq, 10), []);
  });

  test("archive: a hold keeps what an erasure removes, until it is lifted", async (store) => {
    const { owner, conversation, media, withMedia, plain } = await setUp(store);
    assert.equal(
      await store.archive.placeHold({
        conversationId: newId(),
        placedBy: owner.id,
        placedAt: tick(),
        reason: null,
      }),
      null,
      "no such conversation",
    );
    const hold = {
      conversationId: conversation.id,
      placedBy: owner.id,
      placedAt: tick(),
      reason: "x",
    };
    assert.deepEqual(await store.archive.placeHold(hold), hold);
    assert.deepEqual(
      await store.archive.placeHold({ ...hold, reason: "later", placedAt: tick() }),
      hold,
      "the first hold stays",
    );
    assert.deepEqual(await store.archive.getHold(conversation.id), hold);
    assert.deepEqual(await store.archive.listHolds(), [hold]);

    await send(store, erase(conversation.id, owner.id, withMedia.id));
    const gone = await store.messages.getMessage(conversation.id, withMedia.id);
    assert.ok(gone?.deletedAt && gone.body === null && gone.mediaIds.length === 0, "erased");
    const held = await store.archive.heldMessages(conversation.id, [withMedia.id, plain.id]);
    assert.deepEqual([...held.keys()], [withMedia.id]);
    const kept = held.get(withMedia.id)!;
    assert.deepEqual(kept.body, withMedia.body);
    assert.deepEqual(kept.mediaIds, [media.id]);
    assert.equal(kept.deletedAt, gone.deletedAt);
    assert.equal(kept.senderId, owner.id);
    assert.equal(await store.media.isMediaReferenced(media.id), true, "held media are in use");

    const released = await store.archive.liftHold(conversation.id);
    assert.deepEqual(released, { messages: 1, mediaIds: [media.id] });
    assert.equal(await store.archive.getHold(conversation.id), null);
    assert.equal((await store.archive.heldMessages(conversation.id, [withMedia.id])).size, 0);
    assert.equal(await store.media.isMediaReferenced(media.id), false);
    assert.equal(await store.archive.liftHold(conversation.id), null, "nothing to lift");

    await send(store, erase(conversation.id, owner.id, plain.id));
    assert.equal(
      (await store.archive.heldMessages(conversation.id, [plain.id])).size,
      0,
      "no hold, nothing kept",
    );
  });

  test("archive: retention skips held conversations", async (store) => {
    const { owner, conversation } = await setUp(store);
    await send(store, {
      conversationId: conversation.id,
      event: "conversation.updated",
      actorId: owner.id,
      messageId: newId(),
      system: { action: "conversation.updated", actorId: owner.id, changes: ["retention"] },
      mutations: [{ op: "updateConversation", patch: { retentionDays: 1 } }],
      at: tick(),
    });
    const listed = async () =>
      (await store.privacy.retentionConversations({ limit: 10 })).map((c) => c.id);
    assert.deepEqual(await listed(), [conversation.id]);
    await store.archive.placeHold({
      conversationId: conversation.id,
      placedBy: owner.id,
      placedAt: tick(),
      reason: null,
    });
    assert.deepEqual(await listed(), []);
    await store.archive.liftHold(conversation.id);
    assert.deepEqual(await listed(), [conversation.id]);
  });

  test("archive: a copy preserved ahead of an erasure stays, marked deleted by it", async (store) => {
    const { owner, conversation, plain } = await setUp(store);
    const resealed = { keyId: "hold-key", blob: new Uint8Array([1, 2, 3]) };
    const copy = {
      messageId: plain.id,
      conversationId: conversation.id,
      senderId: owner.id,
      body: resealed,
      mediaIds: [],
      replyTo: null,
      createdAt: plain.createdAt,
      deletedAt: null,
    };
    await store.archive.preserveHeld([copy]);
    assert.equal(
      (await store.archive.heldMessages(conversation.id, [plain.id])).size,
      0,
      "not on hold: nothing kept",
    );
    await store.archive.placeHold({
      conversationId: conversation.id,
      placedBy: owner.id,
      placedAt: tick(),
      reason: null,
    });
    await store.archive.preserveHeld([copy]);
    await store.privacy.finishErasure(owner.id, tick());
    const kept = (await store.archive.heldMessages(conversation.id, [plain.id])).get(plain.id)!;
    assert.deepEqual(kept.body, resealed, "the re-sealed copy, not the erased one");
    assert.ok(kept.deletedAt, "marked deleted by the erasure");
    const m = await store.messages.getMessage(conversation.id, plain.id);
    assert.ok(m?.deletedAt && m.body === null);
  });
}
