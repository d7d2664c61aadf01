import { removeFromIndex } from "./_search.ts";
import type { MediaRecord } from "../../domain/media.ts";
import type { MessageRecord, Session } from "../../domain/types.ts";
import type {
  ErasureFinish,
  ErasureStart,
  PrivacyStore,
  ReactionCursor,
  RetentionBatch,
  SentCursor,
  UserReaction,
} from "../privacy.ts";
import { recordRevocations } from "./_accounts.ts";
import { holdBeforeErasure } from "./_archive.ts";
import { type Mongo, partialEq } from "./_db.ts";
import { deleteSessionSubscriptions } from "./_push.ts";
import { foldName, toMessage, toSession } from "./codec.ts";

async function allSessions(m: Mongo, userId: string): Promise<Session[]> {
  const docs = await m.sessions.find({ userId }).sort({ createdAt: -1, _id: -1 }).toArray();
  return docs.map(toSession);
}

async function listSentMessages(
  m: Mongo,
  userId: string,
  options: { limit: number; after?: SentCursor },
): Promise<MessageRecord[]> {
  const after = options.after ?? { conversationId: "", seq: 0 };
  const docs = await m.messages.find({
    senderId: userId,
    kind: { $ne: "system" },
    deletedAt: null,
    $or: [
      { conversationId: { $gt: after.conversationId } },
      { conversationId: after.conversationId, seq: { $gt: after.seq } },
    ],
  }).sort({ conversationId: 1, seq: 1 }).limit(options.limit).toArray();
  return docs.map(toMessage);
}

async function listUserReactions(
  m: Mongo,
  userId: string,
  options: { limit: number; after?: ReactionCursor },
): Promise<UserReaction[]> {
  const after = options.after ?? { messageId: "", emoji: "" };
  const docs = await m.reactions.find({
    userId,
    $or: [
      { messageId: { $gt: after.messageId } },
      { messageId: after.messageId, emoji: { $gt: after.emoji } },
    ],
  }).sort({ messageId: 1, emoji: 1 }).limit(options.limit).toArray();
  if (docs.length === 0) return [];
  const conversations = new Map(
    (await m.messages.find(
      { _id: { $in: [...new Set(docs.map((d) => d.messageId))] } },
      { projection: { conversationId: 1 } },
    ).toArray()).map((d) => [d._id, d.conversationId]),
  );
  // As the SQLite join: a reaction whose message is gone is left out.
  return docs.filter((d) => conversations.has(d.messageId)).map((d) => ({
    messageId: d.messageId,
    conversationId: conversations.get(d.messageId)!,
    emoji: d.emoji,
    createdAt: d.createdAt,
  }));
}

async function listMediaByOwner(
  m: Mongo,
  ownerId: string,
  options: { limit: number; afterId?: string },
): Promise<MediaRecord[]> {
  const docs = await m.media.find({ ownerId, _id: { $gt: options.afterId ?? "" } })
    .sort({ _id: 1 }).limit(options.limit).toArray();
  return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
}

/**
 * The account is marked deleted and scrubbed first, so a crash after it leaves an erasure the sweep
 * finds and resumes (this step is repeated then: every write here is idempotent).
 */
async function beginErasure(
  m: Mongo,
  userId: string,
  start: ErasureStart,
): Promise<{ keyIds: string[] } | null> {
  await m.users.updateOne({ _id: userId, deletedAt: null }, { $set: { deletedAt: start.at } });
  const r = await m.users.updateOne({ _id: userId }, {
    $set: {
      username: start.username,
      displayName: start.displayName,
      displayNameFold: foldName(start.displayName),
      passwordHash: "!",
      role: "user",
      avatarMediaId: null,
      statusText: null,
      presence: "invisible",
      privacyLastSeen: "nobody",
      lastSeenAt: null,
    },
  });
  if (r.matchedCount === 0) return null;
  const keyIds = (await m.userKeys.find({ userId }, { projection: { _id: 1 } }).toArray())
    .map((d) => d._id);
  await m.userKeys.deleteMany({ userId });
  await deleteSessions(m, userId);
  return { keyIds };
}

/**
 * Deletes the user's sessions with their tokens and push subscriptions, recording first those not yet
 * revoked (a crash in between leaves the sessions for the repeat, which records them again and
 * deletes what is left: harmless). Only the sessions read are deleted, so none goes unrecorded; one
 * created meanwhile is left for the next call.
 */
async function deleteSessions(m: Mongo, userId: string): Promise<void> {
  const docs = await m.sessions.find({ userId }, { projection: { _id: 1, revokedAt: 1 } })
    .toArray();
  if (docs.length === 0) return;
  const ids = docs.map((d) => d._id);
  await recordRevocations(m, docs.filter((d) => !d.revokedAt).map((d) => d._id));
  await m.refreshTokens.deleteMany({ sessionId: { $in: ids } });
  await deleteSessionSubscriptions(m, ids);
  await m.sessions.deleteMany({ _id: { $in: ids } });
}

async function finishErasure(m: Mongo, userId: string, at: string): Promise<ErasureFinish> {
  const liveDocs = await m.messages.find(
    { senderId: userId, kind: { $ne: "system" }, deletedAt: null },
    { projection: { _id: 1, conversationId: 1 } },
  ).toArray();
  const live = liveDocs.map((d) => d._id);
  for (const d of liveDocs) await holdBeforeErasure(m, d.conversationId, d._id, at, undefined);
  if (live.length > 0) {
    await m.messages.updateMany(
      { _id: { $in: live }, deletedAt: null },
      {
        $set: { body: null, mediaIds: [], mentions: [], replyTo: null, deletedAt: at },
        $unset: { mentionsAll: "" },
      },
    );
    await m.reactions.deleteMany({ messageId: { $in: live } });
    await m.messageEdits.deleteMany({ messageId: { $in: live } });
    await m.pins.deleteMany({ messageId: { $in: live } });
    await m.pollVotes.deleteMany({ messageId: { $in: live } });
  }
  const reactions = (await m.reactions.deleteMany({ userId })).deletedCount;
  await m.pollVotes.deleteMany({ userId });
  await m.hiddenMessages.deleteMany({ userId });
  await m.threadMembers.deleteMany({ userId });
  await deleteSessions(m, userId);
  // lastSeenAt again: a socket closing during the erasure may have written it after the scrub.
  await m.users.updateOne({ _id: userId }, { $set: { erasedAt: at, lastSeenAt: null } });
  return { messages: live.length, reactions };
}

async function pendingErasures(m: Mongo, before: string, limit: number): Promise<string[]> {
  const docs = await m.users.find(
    { deletedAt: { $type: "string", $lt: before }, erasedAt: null },
    { projection: { _id: 1 } },
  ).sort({ deletedAt: 1 }).limit(limit).toArray();
  return docs.map((d) => d._id);
}

async function retentionConversations(
  m: Mongo,
  options: { limit: number; afterId?: string },
): Promise<Array<{ id: string; retentionDays: number }>> {
  const docs = await m.conversations.find(
    { retentionDays: { $gte: 1 }, deletedAt: null, _id: { $gt: options.afterId ?? "" } },
    { projection: { retentionDays: 1 } },
  ).sort({ _id: 1 }).limit(options.limit).toArray();
  // Held conversations keep everything until the hold is lifted (holds are few).
  const held = new Set(
    (await m.legalHolds.find({ _id: { $in: docs.map((d) => d._id) } }, {
      projection: { _id: 1 },
    }).toArray()).map((d) => d._id),
  );
  return docs.filter((d) => !held.has(d._id))
    .map((d) => ({ id: d._id, retentionDays: d.retentionDays! }));
}

/**
 * Events go before the messages they point at, so no remaining event ever names a removed message;
 * a crash part-way leaves a batch the next sweep finishes (every step is idempotent).
 */
async function sweepRetention(
  m: Mongo,
  conversationId: string,
  cutoff: string,
  limit: number,
): Promise<RetentionBatch> {
  const oldest = await m.messages.find(
    { conversationId },
    { projection: { _id: 1, seq: 1, createdAt: 1, mediaIds: 1, threadId: 1 } },
  ).sort({ seq: 1 }).limit(limit).toArray();
  const end = oldest.findIndex((d) => d.createdAt >= cutoff);
  const gone = end < 0 ? oldest : oldest.slice(0, end);
  if (gone.length === 0) return { messages: 0, messageIds: [], events: 0, mediaIds: [] };
  const ids = gone.map((d) => d._id);
  const boundary = gone.at(-1)!.seq;
  let events = (await m.events.deleteMany({ conversationId, seq: { $lte: boundary } }))
    .deletedCount;
  events += (await m.events.deleteMany({ messageId: { $in: ids } })).deletedCount;
  await m.reactions.deleteMany({ messageId: { $in: ids } });
  await m.messageEdits.deleteMany({ messageId: { $in: ids } });
  await m.pins.deleteMany({ messageId: { $in: ids } });
  await m.pollVotes.deleteMany({ messageId: { $in: ids } });
  await m.hiddenMessages.deleteMany({ messageId: { $in: ids } });
  // A purged root takes its thread with it; a thread that loses replies counts what is left. Both
  // before the messages go, as the events: the count leaves out this batch, so a sweep repeated
  // after a crash counts the same.
  await m.threadMembers.deleteMany({ rootId: { $in: ids } });
  await m.threads.deleteMany({ _id: { $in: ids } });
  const roots = [...new Set(gone.flatMap((d) => d.threadId ? [d.threadId] : []))];
  for (const rootId of roots) {
    const replyCount = await m.messages.countDocuments({
      threadId: partialEq(rootId),
      _id: { $nin: ids },
    });
    await m.threads.updateOne({ _id: rootId }, { $set: { replyCount } });
  }
  await removeFromIndex(m, ids);
  const removed = (await m.messages.deleteMany({ _id: { $in: ids } })).deletedCount;
  const mediaIds = new Set(gone.flatMap((d) => d.mediaIds));
  return { messages: removed, messageIds: ids, events, mediaIds: [...mediaIds] };
}

/**
 * The MongoDB {@link PrivacyStore}: what an export reads, the steps of an erasure (each idempotent,
 * so a crashed one is resumed by repeating it) and retention batches.
 */
export class MongoPrivacy implements PrivacyStore {
  constructor(private readonly m: Mongo) {}

  allSessions(userId: string) {
    return allSessions(this.m, userId);
  }
  listSentMessages(userId: string, options: { limit: number; after?: SentCursor }) {
    return listSentMessages(this.m, userId, options);
  }
  listUserReactions(userId: string, options: { limit: number; after?: ReactionCursor }) {
    return listUserReactions(this.m, userId, options);
  }
  listMediaByOwner(ownerId: string, options: { limit: number; afterId?: string }) {
    return listMediaByOwner(this.m, ownerId, options);
  }
  beginErasure(userId: string, start: ErasureStart) {
    return beginErasure(this.m, userId, start);
  }
  finishErasure(userId: string, at: string) {
    return finishErasure(this.m, userId, at);
  }
  pendingErasures(before: string, limit: number) {
    return pendingErasures(this.m, before, limit);
  }
  /**
   * Nothing to do here: WiredTiger reuses the space of deleted documents, and what an erasure removed
   * is unreadable in any copy because the user's data keys are gone. Reclaiming disk space
   * (`compact`) is an operator's task.
   */
  scrub() {
    return Promise.resolve();
  }
  retentionConversations(options: { limit: number; afterId?: string }) {
    return retentionConversations(this.m, options);
  }
  sweepRetention(conversationId: string, cutoff: string, limit: number) {
    return sweepRetention(this.m, conversationId, cutoff, limit);
  }
}
