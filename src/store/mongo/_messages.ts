import type { ReadPreferenceMode } from "mongodb";
import type { MessageRecord, ReactionSummary } from "../../domain/types.ts";
import type { MessagePage } from "../store.ts";
import { type Mongo, partialEq } from "./_db.ts";
import { toMessage } from "./codec.ts";
import { hiddenKey } from "./schema.ts";

export async function getMessage(
  m: Mongo,
  conversationId: string,
  id: string,
): Promise<MessageRecord | null> {
  const d = await m.messages.findOne({ _id: id, conversationId });
  return d ? toMessage(d) : null;
}

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
 * A page of history. Pages before a seq (scrolling back) are read with `historyReads` (`nearest` by
 * default: a replica's slight lag is harmless there); the newest page and pages after a seq, which
 * must show what was just committed, are read from the primary.
 */
export async function listMessages(
  m: Mongo,
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
  const docs = await m.messages.find({ conversationId, ...seq, ...visible }, { readPreference })
    .sort({ seq: ascending ? 1 : -1 }).limit(options.limit + 1).toArray();
  const page = docs.slice(0, options.limit);
  if (!ascending) page.reverse();
  return { messages: page.map(toMessage), hasMore: docs.length > options.limit };
}

export async function reactions(
  m: Mongo,
  messageIds: string[],
): Promise<Map<string, ReactionSummary>> {
  const out = new Map<string, ReactionSummary>();
  if (messageIds.length === 0) return out;
  const docs = await m.reactions.find({ messageId: { $in: messageIds } })
    .sort({ createdAt: 1, userId: 1, _id: 1 }).toArray();
  for (const d of docs) {
    let summary = out.get(d.messageId);
    if (!summary) out.set(d.messageId, summary = []);
    let entry = summary.find((s) => s.emoji === d.emoji);
    if (!entry) summary.push(entry = { emoji: d.emoji, userIds: [] });
    entry.userIds.push(d.userId);
  }
  return out;
}

export async function hiddenMessageIds(
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

export async function hideMessage(m: Mongo, userId: string, message: MessageRecord): Promise<void> {
  await m.hiddenMessages.updateOne(
    { _id: hiddenKey(userId, message.id) },
    { $setOnInsert: { userId, messageId: message.id, conversationId: message.conversationId } },
    { upsert: true },
  );
}
