import type { Filter, ReadPreferenceMode } from "mongodb";
import type {
  MessageRecord,
  PollVotes,
  ReactionSummary,
  ThreadSummary,
} from "../../domain/types.ts";
import type {
  MessagePage,
  MessageStore,
  MessageVersion,
  PinRecord,
  ReceiptRow,
  ThreadCursor,
  ThreadMembership,
  ThreadRow,
} from "../messages.ts";
import { eachOf, type Mongo, partialEq, type Session } from "./_db.ts";
import { bytes, toMessage, toThreadSummary } from "./codec.ts";
import { groupUsers } from "../_group.ts";
import {
  hiddenKey,
  memberKey,
  type MessageDoc,
  receiptMarkKey,
  type ThreadDoc,
  threadMemberKey,
} from "./schema.ts";

async function getMessage(
  m: Mongo,
  conversationId: string,
  id: string,
): Promise<MessageRecord | null> {
  const d = await m.messages.findOne({ _id: id, conversationId });
  return d ? toMessage(d) : null;
}

/** The message `senderId` sent with `clientMsgId` (the idempotency key), in any conversation. */
export async function getMessageByClientId(
  m: Mongo,
  senderId: string,
  clientMsgId: string,
): Promise<MessageRecord | null> {
  const d = await m.messages.findOne({ senderId, clientMsgId: partialEq(clientMsgId) });
  return d ? toMessage(d) : null;
}

/** A message filter leaving out what `userId` deleted for themselves in one conversation. */
export async function visibleTo(
  m: Mongo,
  userId: string,
  conversationId: string,
  readPreference: ReadPreferenceMode = "primary",
): Promise<{ _id?: { $nin: string[] } }> {
  const hidden = await m.hiddenMessages.distinct("messageId", { userId, conversationId }, {
    readPreference,
  });
  return hidden.length > 0 ? { _id: { $nin: hidden } } : {};
}

/**
 * In the main history: every message but the thread replies kept in their thread (a message without
 * `inMain`, written before threads existed included).
 */
export const IN_MAIN = { inMain: { $ne: false as const } };

/**
 * A page of history: the main history only (thread replies sent `alsoInConversation` included;
 * messages without `inMain`, those from before threads too, are in it).
 */
function listMessages(
  m: Mongo,
  conversationId: string,
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
  historyReads: ReadPreferenceMode,
): Promise<MessagePage> {
  const filter = { conversationId, ...IN_MAIN };
  return _page(m, filter, conversationId, viewerId, options, historyReads);
}

/** A page of a thread's replies (by the `thread` index), read through the root's conversation. */
function listThreadReplies(
  m: Mongo,
  conversationId: string,
  rootId: string,
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
  historyReads: ReadPreferenceMode,
): Promise<MessagePage> {
  const filter = { threadId: partialEq(rootId), conversationId };
  return _page(m, filter, conversationId, viewerId, options, historyReads);
}

/**
 * One page of the messages of one conversation matching `filter`, in ascending seq order, as
 * `viewerId` sees them. Pages before a seq (scrolling back) are read with `historyReads` (`nearest`
 * by default: a replica's slight lag is harmless there); the newest page and pages after a seq,
 * which must show what was just committed, are read from the primary.
 */
async function _page(
  m: Mongo,
  filter: Filter<MessageDoc>,
  conversationId: string,
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
  historyReads: ReadPreferenceMode,
): Promise<MessagePage> {
  const readPreference = options.before !== undefined && options.after === undefined
    ? historyReads
    : "primary";
  const visible = await visibleTo(m, viewerId, conversationId, readPreference);
  const ascending = options.after !== undefined;
  const seq = ascending
    ? { seq: { $gt: options.after! } }
    : options.before !== undefined
    ? { seq: { $lt: options.before } }
    : {};
  const docs = await m.messages.find({ ...filter, ...seq, ...visible }, { readPreference })
    .sort({ seq: ascending ? 1 : -1 }).limit(options.limit + 1).toArray();
  const page = docs.slice(0, options.limit);
  if (!ascending) page.reverse();
  return { messages: page.map(toMessage), hasMore: docs.length > options.limit };
}

async function threadSummaries(
  m: Mongo,
  rootIds: string[],
): Promise<Map<string, ThreadSummary>> {
  if (rootIds.length === 0) return new Map();
  const docs = await m.threads.find({ _id: { $in: rootIds } }).toArray();
  return new Map(docs.map((d) => [d._id, toThreadSummary(d)]));
}

/** Threads after the cursor, latest reply first (then root id, descending). */
function _afterCursor(after?: ThreadCursor): Filter<ThreadDoc> {
  return after
    ? {
      $or: [
        { lastReplyAt: { $lt: after.lastReplyAt } },
        { lastReplyAt: after.lastReplyAt, _id: { $lt: after.rootId } },
      ],
    }
    : {};
}

/**
 * The rows of `threads` (in their order) for `viewerId`: each with its root and the viewer's unread
 * count, the live replies of others after their thread read marker, not deleted for them. A thread
 * whose root is gone is left out (as the SQLite join leaves it out).
 */
async function _threadRows(m: Mongo, viewerId: string, threads: ThreadDoc[]): Promise<ThreadRow[]> {
  if (threads.length === 0) return [];
  const rootIds = threads.map((t) => t._id);
  const visibility = new Map<string, ReturnType<typeof visibleTo>>();
  const visibleIn = (conversationId: string) => {
    let v = visibility.get(conversationId);
    if (!v) visibility.set(conversationId, v = visibleTo(m, viewerId, conversationId));
    return v;
  };
  const [roots, markers] = await Promise.all([
    m.messages.find({ _id: { $in: rootIds } }).toArray(),
    m.threadMembers.find(
      { _id: { $in: rootIds.map((id) => threadMemberKey(viewerId, id)) } },
      { projection: { rootId: 1, readSeq: 1 } },
    ).toArray(),
  ]);
  const rootById = new Map(roots.map((d) => [d._id, d]));
  const readSeq = new Map(markers.map((d) => [d.rootId, d.readSeq]));
  const live = threads.filter((t) => rootById.has(t._id));
  const unread = await Promise.all(live.map(async (t) =>
    m.messages.countDocuments({
      threadId: partialEq(t._id),
      seq: { $gt: readSeq.get(t._id) ?? 0 },
      deletedAt: null,
      senderId: { $ne: viewerId },
      ...(await visibleIn(t.conversationId)),
    })
  ));
  return live.map((t, i) => ({
    summary: toThreadSummary(t),
    root: toMessage(rootById.get(t._id)!),
    unreadCount: unread[i],
  }));
}

/** A conversation's threads (by the `activity` index), latest reply first. */
async function listThreads(
  m: Mongo,
  conversationId: string,
  viewerId: string,
  o: { limit: number; after?: ThreadCursor },
): Promise<ThreadRow[]> {
  if (o.limit <= 0) return [];
  const docs = await m.threads.find({ conversationId, ..._afterCursor(o.after) })
    .sort({ lastReplyAt: -1, _id: -1 }).limit(o.limit).toArray();
  return await _threadRows(m, viewerId, docs);
}

/**
 * The threads a user follows in the conversations they are a member of now (their memberships,
 * then their followed threads among them, by the `user` index of `thread_members`), latest reply
 * first from the cursor on.
 */
async function listFollowedThreads(
  m: Mongo,
  userId: string,
  o: { limit: number; after?: ThreadCursor },
): Promise<ThreadRow[]> {
  if (o.limit <= 0) return [];
  const conversationIds = await m.members.distinct("conversationId", { userId });
  if (conversationIds.length === 0) return [];
  const followed = await m.threadMembers.find(
    { userId, conversationId: { $in: conversationIds }, following: true },
    { projection: { rootId: 1 } },
  ).toArray();
  if (followed.length === 0) return [];
  const docs = await m.threads.find({
    _id: { $in: followed.map((d) => d.rootId) },
    ..._afterCursor(o.after),
  }).sort({ lastReplyAt: -1, _id: -1 }).limit(o.limit).toArray();
  return await _threadRows(m, userId, docs);
}

/**
 * Moves a user's read marker in a thread up to `seq` if it is below (a user who is not in the thread
 * yet gets a membership that does not follow it). The conditional update first; when it matches
 * nothing, an insert by id (which finds a membership already there instead); when a racing write
 * made that membership first, the conditional update once more decides.
 */
async function advanceThreadMarker(
  m: Mongo,
  conversationId: string,
  rootId: string,
  userId: string,
  seq: number,
): Promise<number | null> {
  const _id = threadMemberKey(userId, rootId);
  const forward = () =>
    m.threadMembers.updateOne({ _id, readSeq: { $lt: seq } }, { $set: { readSeq: seq } });
  if ((await forward()).matchedCount > 0) return seq;
  const r = await m.threadMembers.updateOne(
    { _id },
    { $setOnInsert: { userId, rootId, conversationId, following: false, readSeq: seq } },
    { upsert: true },
  );
  if (r.upsertedCount > 0) return seq;
  return (await forward()).matchedCount > 0 ? seq : null;
}

/** Every thread a user follows or has read in, by conversation then root. */
async function listThreadMemberships(m: Mongo, userId: string): Promise<ThreadMembership[]> {
  const docs = await m.threadMembers.find({ userId }).sort({ conversationId: 1, rootId: 1 })
    .toArray();
  return docs.map((d) => ({
    conversationId: d.conversationId,
    rootId: d.rootId,
    following: d.following,
    readSeq: d.readSeq,
  }));
}

async function reactions(
  m: Mongo,
  messageIds: string[],
): Promise<Map<string, ReactionSummary>> {
  if (messageIds.length === 0) return new Map();
  const docs = await m.reactions.find({ messageId: { $in: messageIds } })
    .sort({ createdAt: 1, userId: 1, _id: 1 }).toArray();
  return groupUsers(
    docs.map((d) => ({ messageId: d.messageId, key: d.emoji, userId: d.userId })),
    (emoji): ReactionSummary[number] => ({ emoji, userIds: [] }),
    (e) => e.emoji,
  );
}

/** Per poll, per option in order of its first vote, who voted for it, in voting order. */
async function pollVotes(m: Mongo, messageIds: string[]): Promise<Map<string, PollVotes>> {
  if (messageIds.length === 0) return new Map();
  const docs = await m.pollVotes.find(
    { messageId: { $in: messageIds } },
    { projection: { messageId: 1, userId: 1, optionId: 1 } },
  ).sort({ votedAt: 1, userId: 1, _id: 1 }).toArray();
  return groupUsers(
    docs.map((d) => ({ messageId: d.messageId, key: d.optionId, userId: d.userId })),
    (optionId): PollVotes[number] => ({ optionId, userIds: [] }),
    (e) => e.optionId,
  );
}

/** Every vote of a user, by poll (in message id order), each poll's option ids sorted. */
async function listUserVotes(
  m: Mongo,
  userId: string,
): Promise<Array<{ messageId: string; optionIds: string[]; at: string }>> {
  const docs = await m.pollVotes.find({ userId }).sort({ messageId: 1, optionId: 1 }).toArray();
  const out = new Map<string, { messageId: string; optionIds: string[]; at: string }>();
  for (const d of docs) {
    const v = out.get(d.messageId) ?? { messageId: d.messageId, optionIds: [], at: d.votedAt };
    v.optionIds.push(d.optionId);
    out.set(d.messageId, v);
  }
  return [...out.values()];
}

async function hiddenMessageIds(
  m: Mongo,
  userId: string,
  messageIds: string[],
): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const docs = await m.hiddenMessages.find(
    { _id: { $in: messageIds.map((id) => hiddenKey(userId, id)) } },
    { projection: { messageId: 1 } },
  ).toArray();
  return new Set(docs.map((d) => d.messageId));
}

async function hideMessage(m: Mongo, userId: string, message: MessageRecord): Promise<void> {
  await m.hiddenMessages.updateOne(
    { _id: hiddenKey(userId, message.id) },
    { $setOnInsert: { userId, messageId: message.id, conversationId: message.conversationId } },
    { upsert: true },
  );
}

async function _mark(
  m: Mongo,
  conversationId: string,
  userId: string,
  kind: "read" | "delivered",
  seq: number,
  at: string,
  session: Session,
): Promise<void> {
  await m.receiptMarks.updateOne(
    { _id: receiptMarkKey({ conversationId, userId, kind, seq }) },
    { $setOnInsert: { conversationId, userId, kind, seq, at } },
    { upsert: true, session },
  );
}

/**
 * Moves one marker of a member up to `seq` if it is below, and records when (the first mark at or
 * after a seq is when that seq was reached). Returns whether it moved.
 */
async function moveMarker(
  m: Mongo,
  conversationId: string,
  userId: string,
  kind: "read" | "delivered",
  seq: number,
  at: string,
): Promise<boolean> {
  const _id = memberKey(conversationId, userId);
  const moved = kind === "read"
    ? await m.members.updateOne({ _id, readSeq: { $lt: seq } }, { $set: { readSeq: seq } })
    : await m.members.updateOne({ _id, deliveredSeq: { $lt: seq } }, {
      $set: { deliveredSeq: seq },
    });
  if (moved.matchedCount === 0) return false;
  await _mark(m, conversationId, userId, kind, seq, at, undefined);
  return true;
}

/**
 * Moves both markers of a member up to `seq` in one atomic update (a sender has read what they
 * sent); the document as it was before tells which of them moved, and only those get a mark. The
 * log's `readUpTo` mutation, applied inside a commit (see `_mutations.ts`).
 */
export async function readUpTo(
  m: Mongo,
  conversationId: string,
  userId: string,
  seq: number,
  at: string,
  session: Session,
): Promise<void> {
  const before = await m.members.findOneAndUpdate(
    { _id: memberKey(conversationId, userId) },
    { $max: { readSeq: seq, deliveredSeq: seq } },
    { returnDocument: "before", projection: { readSeq: 1, deliveredSeq: 1 }, session },
  );
  if (!before) return;
  const moved = [
    ...(before.readSeq < seq ? ["read" as const] : []),
    ...(before.deliveredSeq < seq ? ["delivered" as const] : []),
  ];
  await eachOf(
    session,
    moved.map((kind) => () => _mark(m, conversationId, userId, kind, seq, at, session)),
  );
}

async function advanceMarker(
  m: Mongo,
  conversationId: string,
  userId: string,
  kind: "read" | "delivered",
  seq: number,
  at: string,
): Promise<number | null> {
  return await moveMarker(m, conversationId, userId, kind, seq, at) ? seq : null;
}

/**
 * For each member who had joined when message `seq` was created: the first delivered and read marks
 * at or after `seq` (one pass over the conversation's marks from `seq` on, earliest first).
 */
async function receipts(
  m: Mongo,
  conversationId: string,
  seq: number,
): Promise<ReceiptRow[]> {
  const message = await m.messages.findOne(
    { conversationId, seq },
    { projection: { createdAt: 1 } },
  );
  if (!message) return [];
  const [members, marks] = await Promise.all([
    m.members.find(
      { conversationId, joinedAt: { $lte: message.createdAt } },
      { projection: { userId: 1 } },
    ).sort({ joinedAt: 1, userId: 1 }).toArray(),
    m.receiptMarks.aggregate<{ _id: { userId: string; kind: string }; at: string }>([
      { $match: { conversationId, seq: { $gte: seq } } },
      { $sort: { seq: 1 } },
      { $group: { _id: { userId: "$userId", kind: "$kind" }, at: { $first: "$at" } } },
    ]).toArray(),
  ]);
  const first = new Map(marks.map((x) => [`${x._id.kind}:${x._id.userId}`, x.at]));
  return members.map(({ userId }) => {
    const readAt = first.get(`read:${userId}`) ?? null;
    const deliveredAt = first.get(`delivered:${userId}`) ?? null;
    // Reading implies delivery; the earlier of the two is when it arrived.
    const delivered = deliveredAt && readAt
      ? (deliveredAt < readAt ? deliveredAt : readAt)
      : deliveredAt ?? readAt;
    return { userId, deliveredAt: delivered, readAt };
  });
}

/** Newest first: createdAt, then id, both descending (as the SQLite adapter orders the feed). */
function _newestFirst(a: MessageDoc, b: MessageDoc): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a._id < b._id ? 1 : a._id > b._id ? -1 : 0;
}

/**
 * The mentions feed: live messages in the user's conversations (their memberships now) that mention
 * them by name (`mentions_feed` index) or everyone (`mentions_all_feed`), not their own, strictly
 * before the cursor. The two are read apart, each sorted and limited by its index, then merged; a
 * message in both appears once.
 */
async function listMentions(
  m: Mongo,
  userId: string,
  o: { limit: number; before?: { createdAt: string; id: string } },
): Promise<MessageRecord[]> {
  if (o.limit <= 0) return [];
  const conversationIds = await m.members.distinct("conversationId", { userId });
  if (conversationIds.length === 0) return [];
  const b = o.before;
  const common = {
    conversationId: { $in: conversationIds },
    deletedAt: null,
    senderId: { $ne: userId },
    ...(b
      ? {
        $or: [{ createdAt: { $lt: b.createdAt } }, { createdAt: b.createdAt, _id: { $lt: b.id } }],
      }
      : {}),
  };
  const [named, everyone] = await Promise.all([
    m.messages.find({ mentions: partialEq(userId), ...common })
      .sort({ createdAt: -1, _id: -1 }).limit(o.limit).toArray(),
    m.messages.find({ mentionsAll: true, ...common })
      .sort({ createdAt: -1, _id: -1 }).limit(o.limit).toArray(),
  ]);
  const byId = new Map([...named, ...everyone].map((d) => [d._id, d]));
  return [...byId.values()].sort(_newestFirst).slice(0, o.limit).map(toMessage);
}

/**
 * The MongoDB {@link MessageStore}: messages as they are now, reactions, per-user hidden messages and
 * read/delivered markers (each marker move also records when it happened, for receipts), pins, poll
 * votes, the mentions feed and threads (summaries kept by each reply's commit, per-user follow
 * state and read markers). Pages of older history are read with the `historyReads` preference.
 */
export class MongoMessages implements MessageStore {
  constructor(private readonly m: Mongo, private readonly historyReads: ReadPreferenceMode) {}

  getMessage(conversationId: string, messageId: string) {
    return getMessage(this.m, conversationId, messageId);
  }
  getMessageByClientId(senderId: string, clientMsgId: string) {
    return getMessageByClientId(this.m, senderId, clientMsgId);
  }
  listMessages(
    conversationId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ) {
    return listMessages(this.m, conversationId, viewerId, options, this.historyReads);
  }
  listThreadReplies(
    conversationId: string,
    rootId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ) {
    return listThreadReplies(this.m, conversationId, rootId, viewerId, options, this.historyReads);
  }
  threadSummaries(rootIds: string[]) {
    return threadSummaries(this.m, rootIds);
  }
  listThreads(
    conversationId: string,
    viewerId: string,
    options: { limit: number; after?: ThreadCursor },
  ) {
    return listThreads(this.m, conversationId, viewerId, options);
  }
  listFollowedThreads(userId: string, options: { limit: number; after?: ThreadCursor }) {
    return listFollowedThreads(this.m, userId, options);
  }
  advanceThreadMarker(conversationId: string, rootId: string, userId: string, seq: number) {
    return advanceThreadMarker(this.m, conversationId, rootId, userId, seq);
  }
  listThreadMemberships(userId: string) {
    return listThreadMemberships(this.m, userId);
  }
  reactions(messageIds: string[]) {
    return reactions(this.m, messageIds);
  }
  pollVotes(messageIds: string[]) {
    return pollVotes(this.m, messageIds);
  }
  listUserVotes(userId: string) {
    return listUserVotes(this.m, userId);
  }
  hiddenMessageIds(userId: string, messageIds: string[]) {
    return hiddenMessageIds(this.m, userId, messageIds);
  }
  hideMessage(userId: string, message: MessageRecord) {
    return hideMessage(this.m, userId, message);
  }
  advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ) {
    return advanceMarker(this.m, conversationId, userId, kind, seq, at);
  }
  receipts(conversationId: string, seq: number) {
    return receipts(this.m, conversationId, seq);
  }
  async messageVersions(messageId: string): Promise<MessageVersion[]> {
    const docs = await this.m.messageEdits.find({ messageId }).sort({ editedAt: 1 }).toArray();
    // The original first; the edits after it in time order, numbered from 1.
    const ordered = [...docs.filter((d) => d.original), ...docs.filter((d) => !d.original)];
    return ordered.map((d, i) => ({
      version: d.original ? 0 : docs.some((o) => o.original) ? i : i + 1,
      body: { keyId: d.body.keyId, blob: bytes(d.body.blob) },
      editedAt: d.editedAt,
    }));
  }
  async listPins(conversationId: string): Promise<PinRecord[]> {
    const docs = await this.m.pins.find({ conversationId })
      .sort({ pinnedAt: -1, messageId: -1 }).toArray();
    return docs.map((d) => ({
      messageId: d.messageId,
      pinnedBy: d.pinnedBy,
      pinnedAt: d.pinnedAt,
    }));
  }
  listMentions(
    userId: string,
    options: { limit: number; before?: { createdAt: string; id: string } },
  ) {
    return listMentions(this.m, userId, options);
  }
}
