import assert from "node:assert/strict";
import { BSON, type Document } from "mongodb";
import type { DatabaseSync } from "node:sqlite";
import { newId } from "../../src/ids.ts";
import {
  toAudit,
  toConversation,
  toEvent,
  toMember,
  toMessage,
  toSession,
  toThreadSummary,
  toUser,
  toUserKey,
} from "../../src/store/mongo/codec.ts";
import type {
  AuditDoc,
  BanDoc,
  BlockDoc,
  ConversationDoc,
  EventDoc,
  HeldMessageDoc,
  InvitationDoc,
  InviteLinkDoc,
  LegalHoldDoc,
  MemberDoc,
  MessageDoc,
  NotificationSettingsDoc,
  PushConversationPrefDoc,
  PushDeliveryDoc,
  PushSubscriptionDoc,
  ReportDoc,
  SessionDoc,
  SiteSettingDoc,
  ThreadDoc,
  ThreadMemberDoc,
  UserDoc,
  UserKeyDoc,
} from "../../src/store/mongo/schema.ts";
import {
  toBan,
  toBlock,
  toInvitation,
  toInviteLink,
  toReport,
} from "../../src/store/mongo/_moderation.ts";
import {
  toConversationNotify,
  toDelivery,
  toNotificationSettings,
  toSubscription,
} from "../../src/store/mongo/_push.ts";
import { toHeld } from "../../src/store/mongo/_archive.ts";
import { forbidden } from "../../src/domain/errors.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/mod.ts";
import {
  batches,
  type Doc,
  migrate,
  type MigrationTarget,
  type Progress,
  TABLES,
} from "../../tools/migrate_sqlite_to_mongo.ts";
import {
  addUser,
  directInput,
  groupInput,
  mediaRecord,
  member,
  reactionChange,
  session,
  textChange,
  tick,
} from "./_fixtures.ts";

/**
 * A target in memory that keeps each document as BSON bytes, as MongoDB would (so Binary, nulls and
 * numbers come back as the driver returns them), and can fail on purpose after some batches.
 */
class MemoryTarget implements MigrationTarget {
  readonly collections = new Map<string, Map<string, Uint8Array>>();
  readonly saved = new Map<string, Progress>();
  upserts = 0;
  failAfter = Infinity;

  progress(table: string) {
    const p = this.saved.get(table);
    return Promise.resolve(p ? structuredClone(p) : null);
  }
  saveProgress(p: Progress) {
    this.saved.set(p.table, structuredClone(p));
    return Promise.resolve();
  }
  clearProgress() {
    this.saved.clear();
    return Promise.resolve();
  }
  upsert(collection: string, docs: Doc[]) {
    if (this.upserts >= this.failAfter) return Promise.reject(new Error("connection lost"));
    this.upserts++;
    let c = this.collections.get(collection);
    if (!c) this.collections.set(collection, c = new Map());
    for (const d of docs) c.set(d._id, BSON.serialize(d, { ignoreUndefined: true }));
    return Promise.resolve();
  }
  count(collection: string) {
    return Promise.resolve(this.collections.get(collection)?.size ?? 0);
  }
  docs<T>(collection: string): T[] {
    return [...(this.collections.get(collection)?.values() ?? [])].map((b) =>
      BSON.deserialize(b) as Document as T
    );
  }
}

async function withStore(fn: (store: SqliteStore, raw: DatabaseSync) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "parley-migrate-" });
  const store = openSqliteStore({ path: `${dir}/parley.db` });
  try {
    await fn(store, store.db.raw);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A search token of the index (16 bytes, as the keyed ones), made from a word for the test. */
function searchToken(word: string): Uint8Array {
  const out = new Uint8Array(16);
  new TextEncoder().encodeInto(word.padEnd(16, "_"), out);
  return out;
}

/** Indexed by {@link populate}: a word twice, so the index holds it once. */
const SEARCH_WORDS = ["hello", "world", "hello"];

/** A small deployment with at least one row in every table. */
async function populate(store: SqliteStore): Promise<void> {
  const [a, b, c] = [await addUser(store), await addUser(store), await addUser(store)];
  await store.accounts.updateUser(a.id, {
    displayName: "Ärger Ölig",
    statusText: "hi",
    presence: "dnd",
  });
  const s = session(a.id);
  await store.accounts.createSession(s, "hash-1");
  await store.accounts.rotateRefreshToken("hash-1", "hash-2", tick(), "2999-01-01T00:00:00.000Z");
  for (const u of [a, b]) {
    await store.accounts.ensureUserKey(u.id, () =>
      Promise.resolve({
        id: newId(),
        userId: u.id,
        wrapped: crypto.getRandomValues(new Uint8Array(40)),
        kekId: "kek-1",
        createdAt: tick(),
      }));
  }
  const { conversation: d } = await store.conversations.createConversation(directInput(a.id, b.id));
  const { conversation: g } = await store.conversations.createConversation(
    groupInput(a.id, [b.id]),
  );
  await store.log.commit({
    conversationId: g.id,
    event: "member.added",
    actorId: a.id,
    messageId: newId(),
    system: { action: "member.added", actorId: a.id, userIds: [c.id] },
    data: { members: [{ userId: c.id, role: "member" }] },
    at: tick(),
    mutations: [{ op: "addMembers", members: [member(g.id, c.id, "member")] }],
  });
  const sent = [];
  for (let i = 0; i < 5; i++) {
    const ch = textChange(i % 2 ? d.id : g.id, i % 2 ? b.id : a.id);
    ch.mutations.push({ op: "readUpTo", userId: ch.actorId! });
    sent.push(ch);
    await store.log.commit(ch);
  }
  await store.log.commit(reactionChange(g.id, sent[0].messageId!, b.id, "👍"));
  await store.log.commit(reactionChange(g.id, sent[0].messageId!, c.id, "🎉"));
  // A legal hold on the group keeps the content of the message deleted next.
  await store.archive.placeHold({
    conversationId: g.id,
    placedBy: c.id,
    placedAt: tick(),
    reason: "case 1",
  });
  await store.log.commit({
    conversationId: g.id,
    event: "message.deleted",
    actorId: a.id,
    messageId: sent[2].messageId!,
    at: tick(),
    mutations: [{ op: "eraseMessage", messageId: sent[2].messageId!, deletedAt: tick() }],
  });
  await store.log.commit({
    conversationId: g.id,
    event: "message.updated",
    actorId: a.id,
    messageId: sent[4].messageId!,
    at: tick(),
    mutations: [{
      op: "editMessage",
      messageId: sent[4].messageId!,
      body: { keyId: "key-1", blob: new Uint8Array([9, 9, 9]) },
      editedAt: tick(),
    }],
  });
  await store.log.commit({
    conversationId: g.id,
    event: "pin.updated",
    actorId: a.id,
    messageId: newId(),
    system: { action: "message.pinned", actorId: a.id, messageId: sent[4].messageId! },
    data: { messageId: sent[4].messageId!, pinned: true, by: a.id },
    at: tick(),
    mutations: [{ op: "pinMessage", messageId: sent[4].messageId!, userId: a.id, at: tick() }],
  });
  const poll = textChange(g.id, a.id);
  const pollMessage = (poll.mutations[0] as any).message;
  pollMessage.kind = "poll";
  pollMessage.poll = { multiple: true, anonymous: false };
  await store.log.commit(poll);
  await store.log.commit({
    conversationId: g.id,
    event: "message.updated",
    actorId: b.id,
    messageId: poll.messageId!,
    at: tick(),
    mutations: [{
      op: "setVotes",
      messageId: poll.messageId!,
      userId: b.id,
      optionIds: ["o1", "o2"],
      at: tick(),
    }],
  });
  // A thread: one reply only in it, one also in the conversation; the root's author has read both.
  const root = sent[0].messageId!;
  let lastReply = 0;
  for (const [sender, alsoInConversation] of [[b.id, false], [c.id, true]] as const) {
    const reply = textChange(g.id, sender);
    Object.assign((reply.mutations[0] as any).message, {
      threadId: root,
      ...(alsoInConversation ? { alsoInConversation } : {}),
    });
    const r = await store.log.commit(reply);
    if (r.status === "committed") lastReply = r.event.seq;
  }
  assert.equal(await store.messages.advanceThreadMarker(g.id, root, a.id, lastReply), lastReply);
  await store.messages.hideMessage(
    b.id,
    (await store.messages.getMessage(d.id, sent[1].messageId!))!,
  );
  await store.messages.advanceMarker(g.id, c.id, "delivered", 3, tick());
  await store.media.createMedia(mediaRecord(a.id, {
    status: "ready",
    width: 640,
    height: 480,
    waveform: [0, 0.5, 1],
    thumbnail: { mime: "image/jpeg", size: 900, width: 320, height: 240 },
  }));
  await store.exports.createExport({
    id: newId(),
    userId: a.id,
    conversationId: g.id,
    status: "ready",
    keyId: "key-1",
    size: 4321,
    failureReason: null,
    leaseOwner: null,
    leaseUntil: null,
    createdAt: tick(),
    updatedAt: tick(),
    completedAt: tick(),
    expiresAt: "2999-01-01T00:00:00.000Z",
  });
  await store.scheduled.createScheduled({
    id: newId(),
    userId: a.id,
    conversationId: "c1",
    clientMsgId: "later-1",
    body: { keyId: "key-1", blob: new Uint8Array([1, 2, 3]) },
    mediaIds: [],
    sendAt: "2999-01-01T00:00:00.000Z",
    status: "pending",
    failure: null,
    createdAt: tick(),
    updatedAt: tick(),
  });
  await store.drafts.putDraft({
    userId: a.id,
    conversationId: "c1",
    threadId: null,
    body: { keyId: "key-1", blob: new Uint8Array([4, 5, 6]) },
    updatedAt: tick(),
  });
  await store.jobs.enqueue({
    id: newId(),
    kind: "message.expire",
    key: "expire:m1",
    payload: { conversationId: "c1", messageId: "m1" },
    runAt: "2999-01-01T00:00:00.000Z",
    maxAttempts: 5,
    createdAt: tick(),
  });
  // Safety and moderation: a suspension with reach privacy, a muted member, a send under slow mode,
  // a public group, and a row in each moderation table.
  const sealed = (text: string) => ({ keyId: "key-1", blob: new TextEncoder().encode(text) });
  await store.accounts.updateUser(b.id, {
    suspension: { at: tick(), until: "2999-01-01T00:00:00.000Z", reason: sealed("spam") },
    privacyDirectMessages: "contacts",
    privacyGroupAdds: "nobody",
  });
  await store.log.commit({
    conversationId: g.id,
    event: "member.updated",
    actorId: a.id,
    at: tick(),
    data: {},
    mutations: [{ op: "setSilenced", userId: c.id, until: "2999-01-01T00:00:00.000Z" }],
  });
  const slow = textChange(g.id, b.id);
  const slowAt = tick();
  slow.expect = [{
    kind: "slowMode",
    userId: b.id,
    since: new Date(Date.parse(slowAt) - 60_000).toISOString(),
    at: slowAt,
    error: forbidden("slow"),
  }];
  await store.log.commit(slow);
  await store.log.commit({
    conversationId: g.id,
    event: "conversation.updated",
    actorId: a.id,
    at: tick(),
    data: {},
    mutations: [{
      op: "updateConversation",
      patch: { name: "Café Crème", settings: { ...g.settings, public: true, slowModeSeconds: 30 } },
    }],
  });
  await store.moderation.putBlock({ userId: a.id, blockedId: c.id, createdAt: tick() });
  await store.moderation.createInvitation({
    id: newId(),
    conversationId: g.id,
    inviterId: a.id,
    inviteeId: c.id,
    status: "pending",
    createdAt: tick(),
    answeredAt: null,
  });
  await store.moderation.createReport({
    id: newId(),
    reporterId: b.id,
    reason: "abuse",
    note: sealed("note"),
    conversationId: g.id,
    messageId: sent[0].messageId!,
    userId: a.id,
    evidence: sealed("evidence"),
    status: "open",
    resolution: null,
    resolvedBy: null,
    resolvedAt: null,
    createdAt: tick(),
  });
  await store.moderation.putBan({
    conversationId: d.id,
    userId: c.id,
    bannedBy: a.id,
    reason: sealed("why"),
    until: "2999-01-01T00:00:00.000Z",
    createdAt: tick(),
  });
  await store.moderation.createInviteLink({
    code: newId(),
    conversationId: g.id,
    createdBy: a.id,
    createdAt: tick(),
    expiresAt: "2999-01-01T00:00:00.000Z",
    maxUses: 5,
    uses: 2,
    revokedAt: null,
  });
  await store.moderation.setSiteBlockedWords(["spam", "bad word"]);
  // Push: a subscription of a live session, preferences, settings with and without their optional
  // parts, and a delivery sent and acknowledged.
  const subscription = await store.push.putSubscription({
    id: newId(),
    userId: a.id,
    sessionId: s.id,
    kind: "webpush",
    target: sealed('{"endpoint":"https://push.example/1"}'),
    fingerprint: "fp-1",
    createdAt: tick(),
  });
  await store.push.putConversationNotify({
    userId: a.id,
    conversationId: g.id,
    notify: "mentions",
    mutedUntil: "2999-01-01T00:00:00.000Z",
    updatedAt: tick(),
  });
  await store.push.putNotificationSettings({
    userId: a.id,
    preview: "sender",
    quietHours: { start: "22:00", end: "07:00", timeZone: "Europe/Paris" },
    keywords: sealed('["deploy"]'),
    updatedAt: tick(),
  });
  await store.push.putNotificationSettings({
    userId: b.id,
    preview: "full",
    quietHours: null,
    keywords: null,
    updatedAt: tick(),
  });
  const ackId = newId();
  await store.push.claimDelivery({
    ackId,
    userId: a.id,
    sessionId: s.id,
    subscriptionId: subscription.id,
    provider: "webpush",
    kind: "message",
    conversationId: g.id,
    seq: 3,
    status: "pending",
    createdAt: tick(),
    sentAt: null,
    ackedAt: null,
  });
  await store.push.markDelivery(ackId, "sent", tick());
  await store.push.ackDelivery(a.id, ackId, tick());
  await store.activity.markActive("2026-03-01", [a.id, b.id]);
  await store.activity.addDailyCounts("2026-03-01", { messages: 5, "media.image": 1 });
  await store.audit.appendAudit({
    id: newId(),
    at: tick(),
    action: "login.succeeded",
    actorId: a.id,
    targetId: a.id,
    ip: "10.0.0.1",
    userAgent: null,
    details: { method: "password", nested: { n: 1 } },
  });
  // Search: two messages indexed (one with media and a link, under a newer key), one conversation's
  // progress.
  for (const [i, ch] of sent.slice(0, 2).entries()) {
    const message = (await store.messages.getMessage(ch.conversationId, ch.messageId!))!;
    const record = {
      conversationId: message.conversationId,
      messageId: message.id,
      seq: message.seq,
      senderId: message.senderId!,
      createdAt: message.createdAt,
      hasMedia: i === 1,
      hasLink: i === 1,
    };
    await store.search.indexMessage(record, SEARCH_WORDS.map(searchToken), 1 + i);
  }
  await store.search.setProgress(g.id, 3);
}

Deno.test("migrate() copies every table in batches; documents read back as the SQLite store reads them", async () => {
  await withStore(async (store, raw) => {
    await populate(store);
    const target = new MemoryTarget();
    const checks = await migrate(raw, target, { batchSize: 2 });
    for (const c of checks) {
      assert.ok(c.source > 0, `${c.table} has rows to copy`);
      assert.equal(c.target, c.source, c.table);
    }
    assert.deepEqual(checks.map((c) => c.table), TABLES.map((t) => t.table));

    for (const d of target.docs<HeldMessageDoc>("held_messages")) {
      const held = await store.archive.heldMessages(d.conversationId, [d._id]);
      assert.deepEqual(toHeld(d), held.get(d._id));
    }
    assert.deepEqual(
      target.docs<LegalHoldDoc>("legal_holds").map((d) => d._id),
      (await store.archive.listHolds()).map((h) => h.conversationId),
    );
    for (const d of target.docs<UserDoc>("users")) {
      assert.deepEqual(toUser(d), await store.accounts.getUser(d._id));
      assert.equal(d.passwordHash, await store.accounts.getPasswordHash(d._id));
    }
    assert.ok(target.docs<UserDoc>("users").some((d) => d.displayNameFold === "ärger ölig"));
    for (const d of target.docs<SessionDoc>("sessions")) {
      assert.deepEqual(toSession(d), await store.accounts.getSession(d._id));
    }
    for (const d of target.docs<UserKeyDoc>("user_keys")) {
      const key = toUserKey(d);
      assert.ok(key.wrapped instanceof Uint8Array && key.wrapped.length === 40);
      assert.deepEqual(key, await store.accounts.getUserKey(d._id));
      assert.equal(d.currentOf, d.userId, "a key that is not retired is current");
    }
    const edits = target.docs<{ _id: string; messageId: string }>("message_edits");
    assert.equal(edits.length, 2, "the original and the edit");
    const versions = await store.messages.messageVersions(edits[0].messageId);
    assert.deepEqual(
      edits.map((d: any) => [d.original, d.editedAt, [...d.body.blob.buffer]]),
      versions.map((v) => [v.version === 0, v.editedAt, [...v.body.blob]]),
    );
    for (const { _id, ...pin } of target.docs<{ _id: string; conversationId: string }>("pins")) {
      assert.deepEqual(
        [{ ...pin, conversationId: undefined }],
        (await store.messages.listPins(pin.conversationId)).map((p) => ({
          ...p,
          conversationId: undefined,
        })),
      );
    }
    for (const { _id, ...job } of target.docs<{ _id: string }>("jobs")) {
      assert.deepEqual({ id: _id, ...job }, await store.jobs.getByKey("expire:m1"));
    }
    const conversations = target.docs<ConversationDoc>("conversations");
    for (const d of conversations) {
      assert.deepEqual(toConversation(d), await store.conversations.getConversation(d._id));
      assert.equal(d.directKey === null, d.type === "group");
    }
    for (const d of target.docs<MemberDoc>("members")) {
      assert.deepEqual(
        toMember(d),
        await store.conversations.getMember(d.conversationId, d.userId),
      );
    }
    const members = target.docs<MemberDoc>("members");
    assert.ok(members.some((d) => d.silencedUntil !== null), "a muted member");
    assert.ok(members.some((d) => typeof d.lastSentAt === "string"), "a send under slow mode");
    assert.deepEqual(
      conversations.filter((d) => d.public).map((d) => d.nameFold),
      ["cafe creme"],
      "discovery's copies of the name and settings",
    );
    assert.ok(target.docs<UserDoc>("users").some((d) => d.suspension?.reason), "a suspension");
    for (const d of target.docs<BlockDoc>("blocks")) {
      assert.deepEqual([toBlock(d)], await store.moderation.listBlocks(d.userId));
    }
    for (const d of target.docs<InvitationDoc>("invitations")) {
      assert.deepEqual(toInvitation(d), await store.moderation.getInvitation(d._id));
    }
    for (const d of target.docs<ReportDoc>("reports")) {
      assert.deepEqual(toReport(d), await store.moderation.getReport(d._id));
    }
    for (const d of target.docs<BanDoc>("bans")) {
      assert.deepEqual(toBan(d), await store.moderation.getBan(d.conversationId, d.userId));
    }
    for (const d of target.docs<InviteLinkDoc>("invite_links")) {
      assert.deepEqual(toInviteLink(d), await store.moderation.getInviteLink(d._id));
    }
    assert.deepEqual(
      target.docs<SiteSettingDoc>("site_settings").map((d) => [d._id, d.value]),
      [["blockedWords", await store.moderation.siteBlockedWords()]],
    );
    for (const d of target.docs<PushSubscriptionDoc>("push_subscriptions")) {
      assert.deepEqual(toSubscription(d), await store.push.getSubscription(d._id));
    }
    for (const d of target.docs<PushConversationPrefDoc>("push_conversation_prefs")) {
      assert.deepEqual(
        toConversationNotify(d),
        (await store.push.conversationNotify(d.userId, [d.conversationId])).get(d.conversationId),
      );
    }
    const settings = target.docs<NotificationSettingsDoc>("notification_settings");
    assert.ok(settings.some((d) => d.keywords) && settings.some((d) => d.keywords === null));
    for (const d of settings) {
      assert.deepEqual(
        toNotificationSettings(d),
        (await store.push.notificationSettings([d._id])).get(d._id),
      );
    }
    for (const d of target.docs<PushDeliveryDoc>("push_deliveries")) {
      const delivery = toDelivery(d);
      assert.ok(delivery.sentAt && delivery.ackedAt && delivery.status === "sent");
      // Claiming it again is how the port reads a delivery: the stored one comes back.
      assert.deepEqual(
        await store.push.claimDelivery({ ...delivery, ackId: newId() }),
        { status: "exists", delivery },
      );
    }
    const messages = target.docs<MessageDoc>("messages");
    assert.ok(messages.some((d) => d.body !== null) && messages.some((d) => d.deletedAt !== null));
    for (const d of messages) {
      assert.deepEqual(toMessage(d), await store.messages.getMessage(d.conversationId, d._id));
    }
    const threads = target.docs<ThreadDoc>("threads");
    for (const d of threads) {
      assert.deepEqual(
        toThreadSummary(d),
        (await store.messages.threadSummaries([d._id])).get(d._id),
      );
    }
    assert.deepEqual(threads.map((d) => d.participantIds.length), [2]);
    assert.ok(messages.some((d) => d.threadId && d.inMain === false));
    assert.ok(messages.some((d) => d.threadId && d.inMain === undefined));
    for (const d of target.docs<ThreadMemberDoc>("thread_members")) {
      assert.deepEqual(
        (await store.messages.listThreadMemberships(d.userId)).find((t) => t.rootId === d.rootId),
        {
          conversationId: d.conversationId,
          rootId: d.rootId,
          following: d.following,
          readSeq: d.readSeq,
        },
      );
    }
    for (const { _id, ...rest } of target.docs<{ _id: string }>("media")) {
      assert.deepEqual({ id: _id, ...rest }, await store.media.getMedia(_id));
    }
    for (const c of conversations) {
      const log = await store.log.listEvents(c._id, { after: 0, limit: 100 });
      const docs = target.docs<EventDoc>("events").filter((d) => d.conversationId === c._id)
        .sort((x, y) => x.seq - y.seq);
      assert.deepEqual(docs.map(toEvent), log.events);
      assert.ok(docs.every((d) => d.seqAt === 0 && d._id === `${c._id}:${d.seq}`));
    }
    assert.equal(target.docs("search_messages").length, 0, "the index is rebuilt, not copied");
    assert.deepEqual(
      target.docs<AuditDoc>("audit_log").map(toAudit),
      await store.audit.listAudit({ limit: 10 }),
    );
    for (const { _id, ...rest } of target.docs<{ _id: string }>("data_exports")) {
      assert.deepEqual({ id: _id, ...rest }, await store.exports.getExport(_id));
    }
    assert.deepEqual(
      target.docs<{ day: string; userId: string }>("activity_days").map((d) => d.userId).sort(),
      raw.prepare("SELECT user_id FROM activity_days").all().map((r) => r.user_id as string)
        .sort(),
    );
    assert.deepEqual(
      Object.fromEntries(
        target.docs<{ metric: string; value: number }>("daily_counts").map((d) => [
          d.metric,
          d.value,
        ]),
      ),
      (await store.activity.dailyCounts(["2026-03-01"])).get("2026-03-01"),
    );
  });
});

Deno.test("an interrupted migration resumes after its last recorded batch", async () => {
  await withStore(async (store, raw) => {
    await populate(store);
    const clean = new MemoryTarget();
    await migrate(raw, clean, { batchSize: 3 });

    const target = new MemoryTarget();
    target.failAfter = 4;
    await assert.rejects(
      migrate(raw, target, { batchSize: 3 }),
      /connection lost/,
    );
    target.failAfter = Infinity;
    const checks = await migrate(raw, target, { batchSize: 3 });
    assert.ok(checks.every((c) => c.source === c.target));
    assert.equal(target.upserts, clean.upserts, "no batch was copied twice");
    for (const [name, docs] of clean.collections) {
      assert.deepEqual(target.collections.get(name), docs, name);
    }

    await migrate(raw, target, { batchSize: 3 });
    assert.equal(target.upserts, clean.upserts, "a finished run skips every table");
    await migrate(raw, target, { batchSize: 3, restart: true });
    assert.equal(target.upserts, 2 * clean.upserts, "--restart copies everything again");
    assert.ok(
      (await migrate(raw, target, { batchSize: 3 })).every((c) => c.source === c.target),
    );
  });
});

Deno.test("verification reports a collection whose count differs", async () => {
  await withStore(async (store, raw) => {
    await populate(store);
    const target = new MemoryTarget();
    await migrate(raw, target, { batchSize: 100 });
    await target.upsert("messages", [{ _id: "stray" }]);
    const bad = (await migrate(raw, target, { batchSize: 100 })).filter(
      (c) => c.source !== c.target,
    );
    assert.deepEqual(bad.map((c) => c.table), ["messages"]);
  });
});

Deno.test("batches() walks a composite key in order, one row each time, from any position", async () => {
  await withStore(async (store, raw) => {
    await populate(store);
    const spec = TABLES.find((t) => t.table === "receipt_marks")!;
    const all = raw.prepare(
      "SELECT * FROM receipt_marks ORDER BY conversation_id, user_id, kind, seq",
    ).all();
    const seen = [...batches(raw, spec, { after: null, size: 1 })].flatMap((b) => b.rows);
    assert.deepEqual(seen, all);
    const first = [...batches(raw, spec, { after: null, size: 1 })][0];
    assert.deepEqual(
      [...batches(raw, spec, { after: first.last, size: 100 })].flatMap((b) => b.rows),
      all.slice(1),
    );
  });
});
