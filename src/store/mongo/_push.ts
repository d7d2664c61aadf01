import type {
  ConversationNotifyRecord,
  NotificationSettingsRecord,
  PushDeliveryRecord,
  PushStore,
  PushSubscriptionRecord,
} from "../push.ts";
import type { Mongo } from "./_db.ts";
import { bytes, sealedDoc, sealedOrNull } from "./codec.ts";
import {
  type NotificationSettingsDoc,
  type PushConversationPrefDoc,
  type PushDeliveryDoc,
  pushPrefKey,
  type PushSubscriptionDoc,
} from "./schema.ts";

// Documents of the push collections and back: exactly the stored fields, sealed texts' bytes in a
// Binary (as a message's body). The builders are also used by the SQLite → MongoDB migration.

export function subscriptionDoc(s: PushSubscriptionRecord): PushSubscriptionDoc {
  return {
    _id: s.id,
    userId: s.userId,
    sessionId: s.sessionId,
    kind: s.kind,
    target: sealedDoc(s.target),
    fingerprint: s.fingerprint,
    createdAt: s.createdAt,
  };
}

export function toSubscription(d: PushSubscriptionDoc): PushSubscriptionRecord {
  return {
    id: d._id,
    userId: d.userId,
    sessionId: d.sessionId,
    kind: d.kind,
    target: { keyId: d.target.keyId, blob: bytes(d.target.blob) },
    fingerprint: d.fingerprint,
    createdAt: d.createdAt,
  };
}

export function conversationNotifyDoc(r: ConversationNotifyRecord): PushConversationPrefDoc {
  return {
    _id: pushPrefKey(r.userId, r.conversationId),
    userId: r.userId,
    conversationId: r.conversationId,
    notify: r.notify,
    mutedUntil: r.mutedUntil,
    updatedAt: r.updatedAt,
  };
}

export function toConversationNotify(d: PushConversationPrefDoc): ConversationNotifyRecord {
  return {
    userId: d.userId,
    conversationId: d.conversationId,
    notify: d.notify,
    mutedUntil: d.mutedUntil,
    updatedAt: d.updatedAt,
  };
}

/** Quiet hours as stored and read: exactly their three fields. */
function quietHours(
  q: NotificationSettingsRecord["quietHours"],
): NotificationSettingsRecord["quietHours"] {
  return q ? { start: q.start, end: q.end, timeZone: q.timeZone } : null;
}

export function notificationSettingsDoc(r: NotificationSettingsRecord): NotificationSettingsDoc {
  return {
    _id: r.userId,
    preview: r.preview,
    quietHours: quietHours(r.quietHours),
    keywords: r.keywords ? sealedDoc(r.keywords) : null,
    updatedAt: r.updatedAt,
  };
}

export function toNotificationSettings(d: NotificationSettingsDoc): NotificationSettingsRecord {
  return {
    userId: d._id,
    preview: d.preview,
    quietHours: quietHours(d.quietHours),
    keywords: sealedOrNull(d.keywords),
    updatedAt: d.updatedAt,
  };
}

export function deliveryDoc(r: PushDeliveryRecord): PushDeliveryDoc {
  return {
    _id: r.ackId,
    userId: r.userId,
    sessionId: r.sessionId,
    subscriptionId: r.subscriptionId,
    provider: r.provider,
    kind: r.kind,
    conversationId: r.conversationId,
    seq: r.seq,
    status: r.status,
    createdAt: r.createdAt,
    sentAt: r.sentAt,
    ackedAt: r.ackedAt,
  };
}

export function toDelivery(d: PushDeliveryDoc): PushDeliveryRecord {
  return {
    ackId: d._id,
    userId: d.userId,
    sessionId: d.sessionId,
    subscriptionId: d.subscriptionId,
    provider: d.provider,
    kind: d.kind,
    conversationId: d.conversationId,
    seq: d.seq,
    status: d.status,
    createdAt: d.createdAt,
    sentAt: d.sentAt,
    ackedAt: d.ackedAt,
  };
}

/**
 * Deletes the push subscriptions of these sessions: the accounts and erasure paths call it after
 * each write that revokes or deletes sessions, as SQLite's triggers do in the same statement (a
 * revoked device must not be reached).
 */
export async function deleteSessionSubscriptions(m: Mongo, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await m.pushSubscriptions.deleteMany({ sessionId: { $in: sessionIds } });
}

/**
 * One atomic upsert on the unique (sessionId, fingerprint): a new device is inserted whole; one
 * already there keeps its id, owner, kind and createdAt and takes the new sealed target. Racing puts
 * of one device are retried by the server (the filter is equality on that unique index).
 */
async function putSubscription(
  m: Mongo,
  s: PushSubscriptionRecord,
): Promise<PushSubscriptionRecord> {
  const { _id, userId, kind, target, createdAt } = subscriptionDoc(s);
  const d = await m.pushSubscriptions.findOneAndUpdate(
    { sessionId: s.sessionId, fingerprint: s.fingerprint },
    { $set: { target }, $setOnInsert: { _id, userId, kind, createdAt } },
    { upsert: true, returnDocument: "after" },
  );
  return toSubscription(d!);
}

async function getSubscription(m: Mongo, id: string): Promise<PushSubscriptionRecord | null> {
  const d = await m.pushSubscriptions.findOne({ _id: id });
  return d ? toSubscription(d) : null;
}

/** Oldest first, on the `user` index. */
async function listSubscriptions(m: Mongo, userId: string): Promise<PushSubscriptionRecord[]> {
  const docs = await m.pushSubscriptions.find({ userId }).sort({ createdAt: 1, _id: 1 }).toArray();
  return docs.map(toSubscription);
}

async function subscriptionsOf(m: Mongo, userIds: string[]): Promise<PushSubscriptionRecord[]> {
  if (userIds.length === 0) return [];
  const docs = await m.pushSubscriptions.find({ userId: { $in: userIds } })
    .sort({ createdAt: 1, _id: 1 }).toArray();
  return docs.map(toSubscription);
}

/** Members' ids, then one indexed probe of the subscriptions (stops at the first). */
async function hasSubscribers(
  m: Mongo,
  conversationId: string,
  exceptUserId: string,
): Promise<boolean> {
  const members = await m.members.find({ conversationId }, { projection: { userId: 1 } })
    .toArray();
  const others = members.map((x) => x.userId).filter((id) => id !== exceptUserId);
  if (others.length === 0) return false;
  return (await m.pushSubscriptions.findOne(
    { userId: { $in: others } },
    { projection: { _id: 1 } },
  )) !== null;
}

async function deleteSubscription(m: Mongo, userId: string, id: string): Promise<boolean> {
  return (await m.pushSubscriptions.deleteOne({ _id: id, userId })).deletedCount > 0;
}

/** One atomic upsert on the pair's `_id`: every field but the key is replaced together. */
async function putConversationNotify(m: Mongo, r: ConversationNotifyRecord): Promise<void> {
  const doc = conversationNotifyDoc(r);
  await m.pushConversationPrefs.replaceOne({ _id: doc._id }, doc, { upsert: true });
}

async function conversationNotify(
  m: Mongo,
  userId: string,
  conversationIds: string[],
): Promise<Map<string, ConversationNotifyRecord>> {
  const out = new Map<string, ConversationNotifyRecord>();
  if (conversationIds.length === 0) return out;
  const docs = await m.pushConversationPrefs.find({
    _id: { $in: conversationIds.map((c) => pushPrefKey(userId, c)) },
  }).toArray();
  for (const d of docs) out.set(d.conversationId, toConversationNotify(d));
  return out;
}

async function notifyOfConversation(
  m: Mongo,
  conversationId: string,
): Promise<ConversationNotifyRecord[]> {
  const docs = await m.pushConversationPrefs.find({ conversationId }).toArray();
  return docs.map(toConversationNotify);
}

/** One atomic upsert on the user's `_id`: the whole settings are replaced, never a mix of two. */
async function putNotificationSettings(m: Mongo, r: NotificationSettingsRecord): Promise<void> {
  const doc = notificationSettingsDoc(r);
  await m.notificationSettings.replaceOne({ _id: doc._id }, doc, { upsert: true });
}

async function notificationSettings(
  m: Mongo,
  userIds: string[],
): Promise<Map<string, NotificationSettingsRecord>> {
  const out = new Map<string, NotificationSettingsRecord>();
  if (userIds.length === 0) return out;
  const docs = await m.notificationSettings.find({ _id: { $in: userIds } }).toArray();
  for (const d of docs) out.set(d._id, toNotificationSettings(d));
  return out;
}

/**
 * One atomic upsert on the unique (kind, conversationId, seq, sessionId) that inserts only a missing
 * record and returns the one before: none means this call claimed it, else that earlier record is
 * the answer. Racing claims are retried by the server (the filter is equality on that unique index),
 * so exactly one of them inserts; a clash on the ack id alone is an error, as in SQLite.
 */
async function claimDelivery(
  m: Mongo,
  d: PushDeliveryRecord,
): Promise<{ status: "claimed" } | { status: "exists"; delivery: PushDeliveryRecord }> {
  const { _id, userId, subscriptionId, provider, status, createdAt } = deliveryDoc(d);
  const before = await m.pushDeliveries.findOneAndUpdate(
    { kind: d.kind, conversationId: d.conversationId, seq: d.seq, sessionId: d.sessionId },
    {
      $setOnInsert: {
        _id,
        userId,
        subscriptionId,
        provider,
        status,
        createdAt,
        sentAt: null,
        ackedAt: null,
      },
    },
    { upsert: true, returnDocument: "before" },
  );
  return before ? { status: "exists", delivery: toDelivery(before) } : { status: "claimed" };
}

/** `sentAt` is set only when it was sent; a failure keeps the one before. */
async function markDelivery(
  m: Mongo,
  ackId: string,
  status: "sent" | "failed",
  at: string,
): Promise<void> {
  await m.pushDeliveries.updateOne(
    { _id: ackId },
    { $set: status === "sent" ? { status, sentAt: at } : { status } },
  );
}

/** One conditional update: only the owner's record, and only while it is not acked. */
async function ackDelivery(
  m: Mongo,
  userId: string,
  ackId: string,
  at: string,
): Promise<PushDeliveryRecord | null> {
  const d = await m.pushDeliveries.findOneAndUpdate(
    { _id: ackId, userId, ackedAt: null },
    { $set: { ackedAt: at } },
    { returnDocument: "after" },
  );
  return d ? toDelivery(d) : null;
}

/** On the `user` index. */
async function sentSessions(
  m: Mongo,
  userId: string,
  conversationId: string,
  upToSeq: number,
): Promise<string[]> {
  return await m.pushDeliveries.distinct("sessionId", {
    userId,
    conversationId,
    seq: { $lte: upToSeq },
    kind: "message",
    status: "sent",
  });
}

async function pruneDeliveries(m: Mongo, before: string): Promise<number> {
  return (await m.pushDeliveries.deleteMany({ createdAt: { $lt: before } })).deletedCount;
}

async function userPushData(m: Mongo, userId: string): Promise<{
  subscriptions: PushSubscriptionRecord[];
  conversations: ConversationNotifyRecord[];
  settings: NotificationSettingsRecord | null;
}> {
  const [subscriptions, conversations, settings] = await Promise.all([
    listSubscriptions(m, userId),
    m.pushConversationPrefs.find({ userId }).sort({ conversationId: 1 }).toArray(),
    m.notificationSettings.findOne({ _id: userId }),
  ]);
  return {
    subscriptions,
    conversations: conversations.map(toConversationNotify),
    settings: settings ? toNotificationSettings(settings) : null,
  };
}

async function deleteUserPushData(m: Mongo, userId: string): Promise<number> {
  const counts = await Promise.all([
    m.pushSubscriptions.deleteMany({ userId }),
    m.pushConversationPrefs.deleteMany({ userId }),
    m.notificationSettings.deleteMany({ _id: userId }),
    m.pushDeliveries.deleteMany({ userId }),
  ]);
  return counts.reduce((n, r) => n + r.deletedCount, 0);
}

/**
 * The MongoDB {@link PushStore}: one collection per SQLite table, their unique indexes holding the
 * same guarantees (one subscription per session and device, one delivery per kind, conversation, seq
 * and session). Sessions' subscriptions go with them through {@link deleteSessionSubscriptions}.
 */
export class MongoPush implements PushStore {
  constructor(private readonly m: Mongo) {}

  putSubscription(s: PushSubscriptionRecord) {
    return putSubscription(this.m, s);
  }
  getSubscription(id: string) {
    return getSubscription(this.m, id);
  }
  listSubscriptions(userId: string) {
    return listSubscriptions(this.m, userId);
  }
  hasSubscribers(conversationId: string, exceptUserId: string) {
    return hasSubscribers(this.m, conversationId, exceptUserId);
  }
  subscriptionsOf(userIds: string[]) {
    return subscriptionsOf(this.m, userIds);
  }
  deleteSubscription(userId: string, id: string) {
    return deleteSubscription(this.m, userId, id);
  }

  putConversationNotify(r: ConversationNotifyRecord) {
    return putConversationNotify(this.m, r);
  }
  conversationNotify(userId: string, conversationIds: string[]) {
    return conversationNotify(this.m, userId, conversationIds);
  }
  notifyOfConversation(conversationId: string) {
    return notifyOfConversation(this.m, conversationId);
  }

  putNotificationSettings(r: NotificationSettingsRecord) {
    return putNotificationSettings(this.m, r);
  }
  notificationSettings(userIds: string[]) {
    return notificationSettings(this.m, userIds);
  }

  claimDelivery(d: PushDeliveryRecord) {
    return claimDelivery(this.m, d);
  }
  markDelivery(ackId: string, status: "sent" | "failed", at: string) {
    return markDelivery(this.m, ackId, status, at);
  }
  ackDelivery(userId: string, ackId: string, at: string) {
    return ackDelivery(this.m, userId, ackId, at);
  }
  sentSessions(userId: string, conversationId: string, upToSeq: number) {
    return sentSessions(this.m, userId, conversationId, upToSeq);
  }
  pruneDeliveries(before: string) {
    return pruneDeliveries(this.m, before);
  }

  userPushData(userId: string) {
    return userPushData(this.m, userId);
  }
  deleteUserPushData(userId: string) {
    return deleteUserPushData(this.m, userId);
  }
}
