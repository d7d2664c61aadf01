import { Binary, type Filter } from "mongodb";
import {
  type CandidateQuery,
  type IndexBatch,
  type IndexedMessage,
  SEARCH_TOKEN_BYTES,
  type SearchStore,
} from "../search.ts";
import type { Mongo } from "./_db.ts";
import { COLLECTIONS, type SearchMessageDoc } from "./schema.ts";

/** Every token the index uses has this many bytes (a truncated HMAC-SHA-256), as in SQLite. */
export const TOKEN_BYTES = SEARCH_TOKEN_BYTES;

/** A stored search document without its tokens: what reads fetch. */
type IndexedDoc = Omit<SearchMessageDoc, "tokens">;

/** Reads leave the tokens on the server: a result needs only the filter fields. */
const WITHOUT_TOKENS = { projection: { tokens: 0 } } as const;

/**
 * The stored document of an indexed message: exactly the record's fields, its tokens cut to
 * {@link TOKEN_BYTES}, each once, in the order first given. Also used by the SQLite → MongoDB
 * migration.
 */
export function searchMessageDoc(
  m: IndexedMessage,
  { tokens, keyVersion }: { tokens: Uint8Array[]; keyVersion: number },
): SearchMessageDoc {
  const unique = new Map(tokens.map((t) => [t.subarray(0, TOKEN_BYTES).join(","), t]));
  return {
    _id: m.messageId,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    createdAt: m.createdAt,
    hasMedia: m.hasMedia,
    hasLink: m.hasLink,
    keyVersion,
    tokens: [...unique.values()].map((t) => new Binary(t.slice(0, TOKEN_BYTES))),
  };
}

/** The record of a stored document, equal to the one indexed (as SQLite's `toIndexed`). */
export function toIndexed(d: IndexedDoc): IndexedMessage {
  return {
    conversationId: d.conversationId,
    messageId: d._id,
    seq: d.seq,
    senderId: d.senderId,
    createdAt: d.createdAt,
    hasMedia: d.hasMedia === true,
    hasLink: d.hasLink === true,
  };
}

/**
 * One atomic replace on the message's `_id`: its old tokens go with the old document, so an edit
 * never leaves a token of the text before it.
 */
async function indexMessage(
  m: Mongo,
  message: IndexedMessage,
  tokens: Uint8Array[],
  keyVersion: number,
): Promise<void> {
  const doc = searchMessageDoc(message, { tokens, keyVersion });
  await m.searchMessages.replaceOne({ _id: doc._id }, doc, { upsert: true });
}

/**
 * Takes messages out of the index (how many were in it): for the port, and for the retention and
 * erasure paths, as SQLite's `removeFromIndex` does in their transactions.
 */
export async function removeFromIndex(m: Mongo, messageIds: string[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  return (await m.searchMessages.deleteMany({ _id: { $in: messageIds } })).deletedCount;
}

/**
 * Query tokens are compared whole (not cut), as SQLite compares them with its postings. The planner
 * chooses between walking one token's postings newest first (the `tokens` index, as SQLite walks
 * the first token's) and merging the conversations' messages newest first (`conversation`).
 */
async function candidates(m: Mongo, q: CandidateQuery): Promise<IndexedMessage[]> {
  // A limit of 0 would mean no limit to the server.
  if (q.tokens.length === 0 || q.conversationIds.length === 0 || q.limit <= 0) return [];
  const filter: Filter<SearchMessageDoc> = {
    tokens: { $all: q.tokens.map((t) => new Binary(t)) },
    conversationId: { $in: q.conversationIds },
  };
  if (q.senderId !== undefined) filter.senderId = q.senderId;
  if (q.hasMedia) filter.hasMedia = true;
  if (q.hasLink) filter.hasLink = true;
  if (q.before !== undefined || q.after !== undefined) {
    filter.createdAt = {
      ...(q.before !== undefined ? { $lt: q.before } : {}),
      ...(q.after !== undefined ? { $gt: q.after } : {}),
    };
  }
  if (q.belowMessageId !== undefined) filter._id = { $lt: q.belowMessageId };
  const docs = await m.searchMessages.find(filter, WITHOUT_TOKENS)
    .sort({ _id: -1 }).limit(q.limit).toArray();
  return docs.map(toIndexed);
}

async function progress(m: Mongo, conversationIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (conversationIds.length === 0) return out;
  const docs = await m.searchProgress.find({ _id: { $in: conversationIds } }).toArray();
  for (const d of docs) out.set(d._id, d.seq);
  return out;
}

/** One atomic upsert on the conversation's `_id`; `$max` keeps the higher of the two. */
async function setProgress(m: Mongo, conversationId: string, seq: number): Promise<void> {
  await m.searchProgress.updateOne({ _id: conversationId }, { $max: { seq } }, { upsert: true });
}

/**
 * Conversations not deleted whose head is past their progress (none recorded counts as 0), each
 * joined with its progress on `_id`. Like SQLite's join, it walks every conversation until `limit`
 * are found.
 */
async function behind(
  m: Mongo,
  limit: number,
): Promise<Array<{ conversationId: string; indexedSeq: number; lastSeq: number }>> {
  if (limit <= 0) return [];
  const rows = await m.conversations.aggregate<
    { _id: string; indexedSeq: number; lastSeq: number }
  >([
    { $match: { deletedAt: null } },
    { $project: { lastSeq: 1 } },
    {
      $lookup: {
        from: COLLECTIONS.searchProgress,
        localField: "_id",
        foreignField: "_id",
        as: "progress",
      },
    },
    {
      $project: {
        indexedSeq: { $ifNull: [{ $arrayElemAt: ["$progress.seq", 0] }, 0] },
        lastSeq: 1,
      },
    },
    { $match: { $expr: { $gt: ["$lastSeq", "$indexedSeq"] } } },
    { $limit: limit },
    { $project: { indexedSeq: 1, lastSeq: 1 } },
  ]).toArray();
  return rows.map((r) => ({
    conversationId: r._id,
    indexedSeq: r.indexedSeq,
    lastSeq: r.lastSeq,
  }));
}

/** On the `key_version` index. */
async function staleMessages(
  m: Mongo,
  keyVersion: number,
  limit: number,
): Promise<IndexedMessage[]> {
  if (limit <= 0) return [];
  const docs = await m.searchMessages.find({ keyVersion: { $ne: keyVersion } }, WITHOUT_TOKENS)
    .limit(limit).toArray();
  return docs.map(toIndexed);
}

/**
 * The MongoDB {@link SearchStore}: one document per indexed message, its tokens in an array with a
 * multikey index (the postings SQLite keeps in a table of their own), so indexing and removing a
 * message are each one single-document write; progress in one document per conversation.
 */
export class MongoSearch implements SearchStore {
  constructor(private readonly m: Mongo) {}

  indexMessage(message: IndexedMessage, tokens: Uint8Array[], keyVersion: number) {
    return indexMessage(this.m, message, tokens, keyVersion);
  }
  removeMessages(messageIds: string[]) {
    return removeFromIndex(this.m, messageIds);
  }
  /**
   * Each message's document is replaced whole, then removals, then progress last: a crash midway
   * leaves the progress behind, so the step is simply done again.
   */
  async applyIndex(b: IndexBatch) {
    for (const { message, tokens } of b.index) {
      await indexMessage(this.m, message, tokens, b.keyVersion);
    }
    if (b.remove.length) await removeFromIndex(this.m, b.remove);
    for (const p of b.progress) await setProgress(this.m, p.conversationId, p.seq);
  }
  candidates(q: CandidateQuery) {
    return candidates(this.m, q);
  }
  progress(conversationIds: string[]) {
    return progress(this.m, conversationIds);
  }
  setProgress(conversationId: string, seq: number) {
    return setProgress(this.m, conversationId, seq);
  }
  behind(limit: number) {
    return behind(this.m, limit);
  }
  staleMessages(keyVersion: number, limit: number) {
    return staleMessages(this.m, keyVersion, limit);
  }
}
