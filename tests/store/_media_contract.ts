import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import type { Store } from "../../src/store/store.ts";
import { addUser, directInput, groupInput, mediaRecord, textChange, tick } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

/** Sends a message carrying `mediaIds` and returns its id. */
async function sendWithMedia(
  store: Store,
  conversationId: string,
  senderId: string,
  mediaIds: string[],
): Promise<string> {
  const change = textChange(conversationId, senderId);
  const mutation = change.mutations[0];
  if (mutation.op !== "insertMessage") throw new Error("fixture changed");
  mutation.message.mediaIds = mediaIds;
  mutation.message.kind = "media";
  const result = await store.log.commit(change);
  assert.equal(result.status, "committed");
  return change.messageId!;
}

export function mediaContract(test: ContractTest): void {
  test("media records round-trip; getMediaMany() returns those that exist", async (store) => {
    const a = await addUser(store);
    const m = mediaRecord(a.id, {
      waveform: [0, 0.5, 1],
      thumbnail: { mime: "image/jpeg", size: 10, width: 320, height: 240 },
      width: 2048,
      height: 1536,
    });
    await store.media.createMedia(m);
    assert.deepEqual(await store.media.getMedia(m.id), m);
    assert.equal(await store.media.getMedia(newId()), null);
    const other = mediaRecord(a.id);
    await store.media.createMedia(other);
    const many = await store.media.getMediaMany([m.id, newId(), other.id]);
    assert.deepEqual(many.map((x) => x.id).sort(), [m.id, other.id].sort());
    assert.deepEqual(await store.media.getMediaMany([]), []);
  });

  test("updateMedia() applies a patch, optionally only while in a status", async (store) => {
    const a = await addUser(store);
    const m = mediaRecord(a.id);
    await store.media.createMedia(m);
    const ready = await store.media.updateMedia(m.id, {
      status: "ready",
      mime: "image/webp",
      size: 99,
      durationMs: 1500,
      updatedAt: tick(),
    }, { whenStatus: "processing" });
    assert.equal(ready?.status, "ready");
    assert.equal(ready?.durationMs, 1500);
    assert.deepEqual(await store.media.getMedia(m.id), ready);
    const late = await store.media.updateMedia(m.id, {
      status: "failed",
      failureReason: "too late",
      updatedAt: tick(),
    }, { whenStatus: "processing" });
    assert.equal(late, null, "the condition no longer holds");
    assert.equal((await store.media.getMedia(m.id))?.status, "ready");
    assert.equal(await store.media.updateMedia(newId(), { updatedAt: tick() }), null);
  });

  test("listMediaByStatus() pages through one status by id", async (store) => {
    const a = await addUser(store);
    const items = [];
    for (let i = 0; i < 5; i++) {
      const m = mediaRecord(a.id, { status: i === 2 ? "ready" : "processing" });
      await store.media.createMedia(m);
      items.push(m);
    }
    const processing = items.filter((m) => m.status === "processing").map((m) => m.id).sort();
    const first = await store.media.listMediaByStatus("processing", { limit: 3 });
    assert.deepEqual(first.map((m) => m.id), processing.slice(0, 3));
    const rest = await store.media.listMediaByStatus("processing", {
      limit: 3,
      afterId: first.at(-1)!.id,
    });
    assert.deepEqual(rest.map((m) => m.id), processing.slice(3));
    assert.equal((await store.media.listMediaByStatus("ready", { limit: 10 })).length, 1);
  });

  test("canSeeMedia(): the uploader, members where a live message carries it, never strangers", async (store) => {
    const [a, b, c, x] = await Promise.all([
      addUser(store),
      addUser(store),
      addUser(store),
      addUser(store),
    ]);
    const m = mediaRecord(a.id);
    await store.media.createMedia(m);
    assert.equal(await store.media.canSeeMedia(a.id, m.id), true, "the uploader");
    assert.equal(await store.media.canSeeMedia(b.id, m.id), false, "not yet shared");
    const { conversation: group } = await store.conversations.createConversation(
      groupInput(a.id, [b.id, c.id]),
    );
    const messageId = await sendWithMedia(store, group.id, a.id, [m.id]);
    for (const u of [a, b, c]) assert.equal(await store.media.canSeeMedia(u.id, m.id), true);
    assert.equal(await store.media.canSeeMedia(x.id, m.id), false, "a stranger");
    assert.equal(await store.media.isMediaReferenced(m.id), true);
    const erased = await store.log.commit({
      conversationId: group.id,
      event: "message.deleted",
      actorId: a.id,
      messageId,
      at: tick(),
      mutations: [{ op: "eraseMessage", messageId, deletedAt: tick() }],
    });
    assert.equal(erased.status, "committed");
    assert.equal(
      await store.media.canSeeMedia(b.id, m.id),
      false,
      "the message no longer carries it",
    );
    assert.equal(await store.media.canSeeMedia(a.id, m.id), true, "the uploader still does");
    assert.equal(await store.media.isMediaReferenced(m.id), false);
  });

  test("avatars are visible to anyone and count as references", async (store) => {
    const [a, b, x] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const avatar = mediaRecord(a.id, { status: "ready" });
    const groupAvatar = mediaRecord(a.id, { status: "ready" });
    await store.media.createMedia(avatar);
    await store.media.createMedia(groupAvatar);
    assert.equal(await store.media.isMediaReferenced(avatar.id), false);
    await store.accounts.updateUser(a.id, { avatarMediaId: avatar.id });
    assert.equal(await store.media.canSeeMedia(x.id, avatar.id), true);
    assert.equal(await store.media.isMediaReferenced(avatar.id), true);
    const input = groupInput(a.id, [b.id]);
    input.conversation.avatarMediaId = groupAvatar.id;
    await store.conversations.createConversation(input);
    assert.equal(await store.media.canSeeMedia(x.id, groupAvatar.id), true);
    assert.equal(await store.media.isMediaReferenced(groupAvatar.id), true);
    await store.accounts.updateUser(a.id, { avatarMediaId: null });
    assert.equal(await store.media.canSeeMedia(x.id, avatar.id), false);
  });

  test("a message in a direct conversation shares media with the peer only; deleteMedia() removes", async (store) => {
    const [a, b, x] = await Promise.all([addUser(store), addUser(store), addUser(store)]);
    const m = mediaRecord(a.id);
    await store.media.createMedia(m);
    const { conversation } = await store.conversations.createConversation(directInput(a.id, b.id));
    await sendWithMedia(store, conversation.id, a.id, [m.id]);
    assert.equal(await store.media.canSeeMedia(b.id, m.id), true);
    assert.equal(await store.media.canSeeMedia(x.id, m.id), false);
    assert.equal(await store.media.deleteMedia(m.id), true);
    assert.equal(await store.media.getMedia(m.id), null);
    assert.equal(await store.media.deleteMedia(m.id), false);
  });
}
