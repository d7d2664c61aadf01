import assert from "node:assert/strict";
import type { DataExportRecord } from "../../src/domain/privacy.ts";
import { newId } from "../../src/ids.ts";
import type { Change, Store } from "../../src/store/store.ts";
import { addUser, groupInput, mediaRecord, reactionChange, textChange, tick } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

function committedId(r: Awaited<ReturnType<Store["log"]["commit"]>>): string {
  assert.equal(r.status, "committed");
  return r.status === "committed" ? r.message!.id : "";
}

function retentionChange(conversationId: string, actorId: string, days: number | null): Change {
  return {
    conversationId,
    event: "conversation.updated",
    actorId,
    messageId: newId(),
    system: { action: "conversation.updated", actorId, changes: ["retention"] },
    mutations: [{ op: "updateConversation", patch: { retentionDays: days } }],
    at: tick(),
  };
}

function exportRecord(userId: string, overrides: Partial<DataExportRecord> = {}): DataExportRecord {
  const at = tick();
  return {
    id: newId(),
    userId,
    conversationId: null,
    status: "processing",
    keyId: null,
    size: null,
    failureReason: null,
    leaseOwner: "instance-1",
    leaseUntil: "2030-01-01T00:00:00.000Z",
    createdAt: at,
    updatedAt: at,
    completedAt: null,
    expiresAt: "2030-01-04T00:00:00.000Z",
    ...overrides,
  };
}

export function lifecycleContract(test: ContractTest): void {
  test("retentionConversations() lists live conversations with a retention period", async (store) => {
    const a = await addUser(store);
    const { conversation: g1 } = await store.conversations.createConversation(groupInput(a.id, []));
    const { conversation: g2 } = await store.conversations.createConversation(groupInput(a.id, []));
    await store.conversations.createConversation(groupInput(a.id, []));
    await store.log.commit(retentionChange(g1.id, a.id, 7));
    await store.log.commit(retentionChange(g2.id, a.id, 30));
    const all = await store.privacy.retentionConversations({ limit: 10 });
    assert.deepEqual(
      all,
      [{ id: g1.id, retentionDays: 7 }, { id: g2.id, retentionDays: 30 }].sort((x, y) =>
        x.id < y.id ? -1 : 1
      ),
    );
    assert.deepEqual(
      await store.privacy.retentionConversations({ limit: 10, afterId: all[0].id }),
      [
        all[1],
      ],
    );
    await store.log.commit(retentionChange(g1.id, a.id, null));
    assert.deepEqual((await store.privacy.retentionConversations({ limit: 10 })).map((c) => c.id), [
      g2.id,
    ]);
  });

  test("sweepRetention() removes old messages in seq order with their events, reactions and media refs", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(a.id, [b.id]),
    );
    const media = mediaRecord(a.id, { status: "ready" });
    await store.media.createMedia(media);
    const withMedia = textChange(g.id, a.id);
    const insert = withMedia.mutations[0];
    if (insert.op === "insertMessage") {
      Object.assign(insert.message, { kind: "media", mediaIds: [media.id] });
    }
    const m1 = committedId(await store.log.commit(withMedia));
    const m2 = committedId(await store.log.commit(textChange(g.id, b.id)));
    const m3 = committedId(await store.log.commit(textChange(g.id, a.id)));
    const m4 = committedId(await store.log.commit(textChange(g.id, b.id)));
    const cutoff = (await store.messages.getMessage(g.id, m4))!.createdAt;
    // A later event about an old message goes with it.
    await store.log.commit(reactionChange(g.id, m1, b.id, "👍"));
    const m5 = committedId(await store.log.commit(textChange(g.id, a.id)));
    await store.messages.hideMessage(b.id, (await store.messages.getMessage(g.id, m2))!);
    assert.equal(await store.media.isMediaReferenced(media.id), true);

    const first = await store.privacy.sweepRetention(g.id, cutoff, 2);
    assert.equal(first.messages, 2, "at most the limit: the system message and m1");
    assert.equal(first.messageIds.length, 2);
    assert.ok(first.messageIds.includes(m1));
    assert.deepEqual(first.mediaIds, [media.id]);
    assert.equal(await store.media.isMediaReferenced(media.id), false);
    assert.equal(await store.messages.getMessage(g.id, m1), null);
    assert.ok(await store.messages.getMessage(g.id, m3), "m3 waits for the next batch");
    const second = await store.privacy.sweepRetention(g.id, cutoff, 100);
    assert.deepEqual(second.messages, 2, "m2 and m3; m4 is not older than the cutoff");
    assert.deepEqual(second.messageIds.sort(), [m2, m3].sort());
    assert.deepEqual(second.mediaIds, []);
    assert.deepEqual(await store.privacy.sweepRetention(g.id, cutoff, 100), {
      messages: 0,
      messageIds: [],
      events: 0,
      mediaIds: [],
    });
    const history = await store.messages.listMessages(g.id, b.id, { limit: 50 });
    assert.deepEqual(history.messages.map((m) => m.id), [m4, m5]);
    const log = await store.log.listEvents(g.id, { after: 0, limit: 50 });
    assert.deepEqual(log.events.map((e) => e.messageId), [m4, m5], "no event of a removed message");
    assert.equal(log.events[0].seq, 5);
    assert.deepEqual(await store.messages.reactions([m1]), new Map());
    assert.deepEqual(await store.messages.hiddenMessageIds(b.id, [m2]), new Set());
    assert.equal(
      (await store.conversations.getConversation(g.id))!.lastSeq,
      7,
      "the head does not move",
    );
  });

  test("exports: create, read, update conditionally, list, find due ones, delete", async (store) => {
    const u = await addUser(store);
    const first = exportRecord(u.id);
    const second = exportRecord(u.id, { leaseUntil: "2000-01-01T00:00:00.000Z" });
    const expired = exportRecord(u.id, {
      status: "ready",
      leaseOwner: null,
      leaseUntil: null,
      expiresAt: "2001-01-01T00:00:00.000Z",
    });
    for (const e of [first, second, expired]) await store.exports.createExport(e);
    assert.deepEqual(await store.exports.getExport(first.id), first);
    assert.equal(await store.exports.getExport("missing"), null);
    assert.deepEqual((await store.exports.listExports(u.id)).map((e) => e.id), [
      expired.id,
      second.id,
      first.id,
    ]);
    const at = tick();
    const ready = await store.exports.updateExport(first.id, {
      status: "ready",
      keyId: "k1",
      size: 1234,
      completedAt: at,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: at,
    }, { whenStatus: "processing" });
    assert.equal(ready?.status, "ready");
    assert.equal(ready?.size, 1234);
    assert.deepEqual(await store.exports.getExport(first.id), ready);
    assert.equal(
      await store.exports.updateExport(first.id, { status: "failed", updatedAt: tick() }, {
        whenStatus: "processing",
      }),
      null,
      "no longer processing",
    );
    const due = await store.exports.dueExports("2020-01-01T00:00:00.000Z", 10);
    assert.deepEqual(due.map((e) => e.id).sort(), [second.id, expired.id].sort());
    assert.equal(await store.exports.deleteExport(expired.id), true);
    assert.equal(await store.exports.deleteExport(expired.id), false);
    assert.deepEqual((await store.exports.listExports(u.id)).map((e) => e.id), [
      second.id,
      first.id,
    ]);
  });

  test("markActive() and countActive() count distinct users over days", async (store) => {
    await store.activity.markActive("2026-03-01", ["u1", "u2", "u1"]);
    await store.activity.markActive("2026-03-01", ["u2", "u3"]);
    await store.activity.markActive("2026-03-02", ["u3", "u4"]);
    await store.activity.markActive("2026-03-02", []);
    assert.equal(await store.activity.countActive(["2026-03-01"]), 3);
    assert.equal(await store.activity.countActive(["2026-03-02"]), 2);
    assert.equal(await store.activity.countActive(["2026-03-01", "2026-03-02"]), 4);
    assert.equal(await store.activity.countActive(["2026-03-03"]), 0);
    assert.equal(await store.activity.countActive([]), 0);
  });

  test("addDailyCounts() adds up per day and counter", async (store) => {
    await store.activity.addDailyCounts("2026-03-01", { messages: 3, "media.image": 1 });
    await store.activity.addDailyCounts("2026-03-01", {
      messages: 2,
      registrations: 1,
      "media.video": 0,
    });
    await store.activity.addDailyCounts("2026-03-02", { "media.audio": 4 });
    const counts = await store.activity.dailyCounts(["2026-03-01", "2026-03-02", "2026-03-03"]);
    assert.deepEqual(counts.get("2026-03-01"), { messages: 5, "media.image": 1, registrations: 1 });
    assert.deepEqual(counts.get("2026-03-02"), { "media.audio": 4 });
    assert.equal(counts.has("2026-03-03"), false);
  });
}
