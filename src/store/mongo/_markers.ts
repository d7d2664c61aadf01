import type { ReceiptRow } from "../store.ts";
import { eachOf, type Mongo, type Session } from "./_db.ts";
import { memberKey, receiptMarkKey } from "./schema.ts";

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
export async function moveMarker(
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
 * sent); the document as it was before tells which of them moved, and only those get a mark.
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

export async function advanceMarker(
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
export async function receipts(
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
