import type { DraftRecord, DraftStore } from "../drafts.ts";
import type { Mongo } from "./_db.ts";
import { bytes, sealedDoc } from "./codec.ts";
import { type DraftDoc, draftKey } from "./schema.ts";

/**
 * The stored document of a draft: exactly its fields, keyed by its place (user, conversation,
 * thread), the body's bytes in a Binary. Also used by the SQLite → MongoDB migration.
 */
export function draftDoc(d: DraftRecord): DraftDoc {
  return {
    _id: draftKey(d.userId, d.conversationId, d.threadId),
    userId: d.userId,
    conversationId: d.conversationId,
    threadId: d.threadId,
    body: sealedDoc(d.body),
    updatedAt: d.updatedAt,
  };
}

/** The record of a stored document (the body's bytes as a plain Uint8Array). */
export function toDraft(d: DraftDoc): DraftRecord {
  return {
    userId: d.userId,
    conversationId: d.conversationId,
    threadId: d.threadId,
    body: { keyId: d.body.keyId, blob: bytes(d.body.blob) },
    updatedAt: d.updatedAt,
  };
}

/**
 * One atomic upsert on the place's `_id`: the whole document is replaced (only body and updatedAt can
 * differ), so two concurrent puts leave one of them, never a mix.
 */
async function putDraft(m: Mongo, draft: DraftRecord): Promise<void> {
  const doc = draftDoc(draft);
  await m.drafts.replaceOne({ _id: doc._id }, doc, { upsert: true });
}

async function getDraft(
  m: Mongo,
  userId: string,
  conversationId: string,
  threadId: string | null,
): Promise<DraftRecord | null> {
  const d = await m.drafts.findOne({ _id: draftKey(userId, conversationId, threadId) });
  return d ? toDraft(d) : null;
}

async function deleteDraft(
  m: Mongo,
  userId: string,
  conversationId: string,
  threadId: string | null,
): Promise<boolean> {
  const res = await m.drafts.deleteOne({ _id: draftKey(userId, conversationId, threadId) });
  return res.deletedCount > 0;
}

/** Newest first, on the `user_updated` index. */
async function listDrafts(m: Mongo, userId: string): Promise<DraftRecord[]> {
  const docs = await m.drafts.find({ userId }).sort({ updatedAt: -1 }).toArray();
  return docs.map(toDraft);
}

async function deleteUserDrafts(m: Mongo, userId: string): Promise<number> {
  return (await m.drafts.deleteMany({ userId })).deletedCount;
}

/**
 * The MongoDB {@link DraftStore}: one document per (user, conversation, thread), its `_id` the place
 * (see `draftKey`), so a put is one atomic upsert and there is never a second draft at one place.
 */
export class MongoDrafts implements DraftStore {
  constructor(private readonly m: Mongo) {}

  putDraft(draft: DraftRecord) {
    return putDraft(this.m, draft);
  }
  getDraft(userId: string, conversationId: string, threadId: string | null) {
    return getDraft(this.m, userId, conversationId, threadId);
  }
  deleteDraft(userId: string, conversationId: string, threadId: string | null) {
    return deleteDraft(this.m, userId, conversationId, threadId);
  }
  listDrafts(userId: string) {
    return listDrafts(this.m, userId);
  }
  deleteUserDrafts(userId: string) {
    return deleteUserDrafts(this.m, userId);
  }
}
