import type { Conversation, Member } from "../../domain/types.ts";
import {
  type ConversationListItem,
  type ConversationStore,
  directPeer,
  type ListCursor,
  type MemberCursor,
  type MemberStatePatch,
  type NewConversation,
} from "../conversations.ts";
import { inTransaction, isDuplicateKey, type Mongo, partialEq } from "./_db.ts";
import { IN_MAIN, visibleTo } from "./_messages.ts";
import {
  conversationDoc,
  eventDoc,
  memberDoc,
  systemMessageDoc,
  toConversation,
  toMember,
  toMessage,
} from "./codec.ts";
import { type ConversationDoc, type MemberDoc, memberKey } from "./schema.ts";

/**
 * Writes the conversation, its members, its first event and system message in one transaction. A
 * second direct conversation for the same pair fails on the unique `directKey` and the existing one
 * is returned instead.
 */
async function createConversation(
  m: Mongo,
  input: NewConversation,
): Promise<{ conversation: Conversation; created: boolean }> {
  const c = input.conversation;
  const doc = conversationDoc({
    ...c,
    updatedAt: c.createdAt,
    lastSeq: 1,
    memberCount: input.members.length,
    retentionDays: null,
    deletedAt: null,
  }, input.directKey ?? null);
  const first = new Map<string, Member>();
  for (const member of input.members) {
    const key = memberKey(member.conversationId, member.userId);
    if (!first.has(key)) first.set(key, member);
  }
  try {
    await inTransaction(m, async (session) => {
      await m.conversations.insertOne(doc, { session });
      if (first.size > 0) {
        await m.members.insertMany([...first.values()].map(memberDoc), { session });
      }
      await m.messages.insertOne(
        systemMessageDoc({
          id: input.systemMessageId,
          conversationId: c.id,
          seq: 1,
          actorId: input.event.actorId,
          system: input.system,
          at: c.createdAt,
        }),
        { session },
      );
      await m.events.insertOne(
        eventDoc({
          conversationId: c.id,
          seq: 1,
          event: input.event.event,
          actorId: input.event.actorId,
          messageId: input.systemMessageId,
          data: input.event.data,
          createdAt: c.createdAt,
        }, Date.now()),
        { session },
      );
    });
  } catch (err) {
    const existing = isDuplicateKey(err) && input.directKey
      ? await m.conversations.findOne({ directKey: partialEq(input.directKey) })
      : null;
    if (!existing) throw err;
    return { conversation: toConversation(existing), created: false };
  }
  return { conversation: toConversation(doc), created: true };
}

async function getConversation(m: Mongo, id: string): Promise<Conversation | null> {
  const d = await m.conversations.findOne({ _id: id });
  return d ? toConversation(d) : null;
}

async function getMember(
  m: Mongo,
  conversationId: string,
  userId: string,
): Promise<Member | null> {
  const d = await m.members.findOne({ _id: memberKey(conversationId, userId) });
  return d ? toMember(d) : null;
}

async function listMembers(
  m: Mongo,
  conversationId: string,
  options: { limit: number; after?: MemberCursor },
): Promise<Member[]> {
  const after = options.after ?? { joinedAt: "", userId: "" };
  const docs = await m.members.find({
    conversationId,
    $or: [
      { joinedAt: { $gt: after.joinedAt } },
      { joinedAt: after.joinedAt, userId: { $gt: after.userId } },
    ],
  }).sort({ joinedAt: 1, userId: 1 }).limit(options.limit).toArray();
  return docs.map(toMember);
}

async function memberIds(m: Mongo, conversationId: string): Promise<string[]> {
  return await m.members.distinct("userId", { conversationId });
}

async function _conversationIdsOf(m: Mongo, userId: string): Promise<string[]> {
  return await m.members.distinct("conversationId", { userId });
}

async function contactIds(m: Mongo, userId: string): Promise<string[]> {
  const ids = await _conversationIdsOf(m, userId);
  if (ids.length === 0) return [];
  return await m.members.distinct("userId", {
    conversationId: { $in: ids },
    userId: { $ne: userId },
  });
}

async function sharesConversation(m: Mongo, a: string, b: string): Promise<boolean> {
  const ids = await _conversationIdsOf(m, a);
  if (ids.length === 0) return false;
  return !!(await m.members.findOne(
    { conversationId: { $in: ids }, userId: b },
    { projection: { _id: 1 } },
  ));
}

/**
 * Live messages after `member`'s read marker, not their own, that mention them by name or mention
 * everyone; each counted once (by the `mentions` and `mentions_all` partial indexes).
 */
async function _unreadMentions(
  m: Mongo,
  member: MemberDoc,
  visible: Awaited<ReturnType<typeof visibleTo>>,
): Promise<number> {
  const after = { conversationId: member.conversationId, seq: { $gt: member.readSeq } };
  return await m.messages.countDocuments({
    $or: [
      { ...after, mentions: partialEq(member.userId) },
      { ...after, mentionsAll: true },
    ],
    deletedAt: null,
    senderId: { $ne: member.userId },
    ...visible,
  });
}

/**
 * One row of `member`'s list: the latest message they can see in the main history, their unread
 * (main history only: thread replies not also sent to the conversation are left out) and unread
 * mention counts, the peer.
 */
async function _listItem(
  m: Mongo,
  c: ConversationDoc,
  member: MemberDoc,
): Promise<ConversationListItem> {
  const visible = await visibleTo(m, member.userId, c._id);
  const [last, unreadCount, unreadMentionCount, peer] = await Promise.all([
    m.messages.findOne({ conversationId: c._id, ...IN_MAIN, ...visible }, { sort: { seq: -1 } }),
    m.messages.countDocuments({
      conversationId: c._id,
      seq: { $gt: member.readSeq },
      kind: { $ne: "system" },
      deletedAt: null,
      senderId: { $ne: member.userId },
      ...IN_MAIN,
      ...visible,
    }),
    _unreadMentions(m, member, visible),
    c.type === "direct"
      ? m.members.findOne(
        { conversationId: c._id, userId: { $ne: member.userId } },
        { projection: { userId: 1 } },
      )
      : null,
  ]);
  return {
    conversation: toConversation(c),
    member: toMember(member),
    lastMessage: last ? toMessage(last) : null,
    unreadCount,
    unreadMentionCount,
    // A peer who left (an erased account) is still named by the pair's key.
    peerId: peer?.userId ?? (c.type === "direct" ? directPeer(c.directKey, member.userId) : null),
  };
}

/**
 * The user's memberships (by the `userId, archived` index), then their live conversations among
 * them, latest activity first, from the cursor on. The sort is over one user's conversations, as in
 * the SQLite adapter; activity is not copied onto memberships, so a send writes no member documents.
 */
async function listConversations(
  m: Mongo,
  userId: string,
  options: { archived: boolean; limit: number; cursor?: ListCursor },
): Promise<ConversationListItem[]> {
  const memberships = await m.members.find({ userId, archived: options.archived }).toArray();
  if (memberships.length === 0) return [];
  const byConversation = new Map(memberships.map((d) => [d.conversationId, d]));
  const cursor = options.cursor;
  const docs = await m.conversations.find({
    _id: { $in: [...byConversation.keys()] },
    deletedAt: null,
    ...(cursor
      ? {
        $or: [
          { updatedAt: { $lt: cursor.updatedAt } },
          { updatedAt: cursor.updatedAt, _id: { $lt: cursor.id } },
        ],
      }
      : {}),
  }).sort({ updatedAt: -1, _id: -1 }).limit(options.limit).toArray();
  return await Promise.all(docs.map((d) => _listItem(m, d, byConversation.get(d._id)!)));
}

async function conversationItem(
  m: Mongo,
  userId: string,
  conversationId: string,
): Promise<ConversationListItem | null> {
  const [member, conversation] = await Promise.all([
    m.members.findOne({ _id: memberKey(conversationId, userId) }),
    m.conversations.findOne({ _id: conversationId, deletedAt: null }),
  ]);
  return member && conversation ? await _listItem(m, conversation, member) : null;
}

async function setMemberState(
  m: Mongo,
  conversationId: string,
  userId: string,
  patch: MemberStatePatch,
): Promise<Member | null> {
  const set: Partial<MemberDoc> = {};
  if (patch.muted !== undefined) set.muted = patch.muted;
  if (patch.mutedUntil !== undefined) set.mutedUntil = patch.mutedUntil;
  if (patch.archived !== undefined) set.archived = patch.archived;
  if (Object.keys(set).length > 0) {
    await m.members.updateOne({ _id: memberKey(conversationId, userId) }, { $set: set });
  }
  return await getMember(m, conversationId, userId);
}

/**
 * The MongoDB {@link ConversationStore}: conversations with their members as they are now. A new
 * conversation is written in one transaction; the unique `directKey` index keeps one direct
 * conversation per pair.
 */
export class MongoConversations implements ConversationStore {
  constructor(private readonly m: Mongo) {}

  createConversation(input: NewConversation) {
    return createConversation(this.m, input);
  }
  getConversation(id: string) {
    return getConversation(this.m, id);
  }
  getMember(conversationId: string, userId: string) {
    return getMember(this.m, conversationId, userId);
  }
  async getMembers(conversationId: string, userIds: string[]) {
    if (userIds.length === 0) return [];
    const keys = userIds.map((u) => memberKey(conversationId, u));
    return (await this.m.members.find({ _id: { $in: keys } }).toArray()).map(toMember);
  }
  listMembers(conversationId: string, options: { limit: number; after?: MemberCursor }) {
    return listMembers(this.m, conversationId, options);
  }
  memberIds(conversationId: string) {
    return memberIds(this.m, conversationId);
  }
  contactIds(userId: string) {
    return contactIds(this.m, userId);
  }
  sharesConversation(a: string, b: string) {
    return sharesConversation(this.m, a, b);
  }
  listConversations(
    userId: string,
    options: { archived: boolean; limit: number; cursor?: ListCursor },
  ) {
    return listConversations(this.m, userId, options);
  }
  conversationItem(userId: string, conversationId: string) {
    return conversationItem(this.m, userId, conversationId);
  }
  setMemberState(conversationId: string, userId: string, patch: MemberStatePatch) {
    return setMemberState(this.m, conversationId, userId, patch);
  }
}
