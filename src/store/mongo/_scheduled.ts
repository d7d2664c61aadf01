import type {
  ScheduledCursor,
  ScheduledPatch,
  ScheduledRecord,
  ScheduledStore,
} from "../scheduled.ts";
import { isDuplicateKey, type Mongo } from "./_db.ts";
import { bytes, sealedDoc } from "./codec.ts";
import type { ScheduledDoc } from "./schema.ts";

/** The stored document of a scheduled message: exactly its fields, the body's bytes in a Binary. */
export function scheduledDoc(s: ScheduledRecord): ScheduledDoc {
  return {
    _id: s.id,
    userId: s.userId,
    conversationId: s.conversationId,
    clientMsgId: s.clientMsgId,
    body: s.body ? sealedDoc(s.body) : null,
    mediaIds: s.mediaIds,
    sendAt: s.sendAt,
    status: s.status,
    failure: s.failure ? { code: s.failure.code, detail: s.failure.detail } : null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** The record of a stored document (the body's bytes as a plain Uint8Array). */
export function toScheduled(d: ScheduledDoc): ScheduledRecord {
  return {
    id: d._id,
    userId: d.userId,
    conversationId: d.conversationId,
    clientMsgId: d.clientMsgId,
    body: d.body ? { keyId: d.body.keyId, blob: bytes(d.body.blob) } : null,
    mediaIds: d.mediaIds,
    sendAt: d.sendAt,
    status: d.status,
    failure: d.failure ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/**
 * Inserts it; the unique (userId, clientMsgId) index answers a clash, race-free, with the stored one.
 * A duplicate key with no such one stored (the same id under another key) is an error, as in SQLite.
 */
async function createScheduled(
  m: Mongo,
  record: ScheduledRecord,
): Promise<{ status: "created" | "exists"; scheduled: ScheduledRecord }> {
  const doc = scheduledDoc(record);
  try {
    await m.scheduled.insertOne(doc);
    return { status: "created", scheduled: toScheduled(doc) };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const first = await m.scheduled.findOne({
      userId: record.userId,
      clientMsgId: record.clientMsgId,
    });
    if (!first) throw err;
    return { status: "exists", scheduled: toScheduled(first) };
  }
}

async function getScheduled(m: Mongo, id: string): Promise<ScheduledRecord | null> {
  const d = await m.scheduled.findOne({ _id: id });
  return d ? toScheduled(d) : null;
}

async function listScheduled(
  m: Mongo,
  userId: string,
  options: { limit: number; after?: ScheduledCursor },
): Promise<ScheduledRecord[]> {
  const after = options.after ?? { sendAt: "", id: "" };
  const docs = await m.scheduled.find({
    userId,
    $or: [
      { sendAt: { $gt: after.sendAt } },
      { sendAt: after.sendAt, _id: { $gt: after.id } },
    ],
  }).sort({ sendAt: 1, _id: 1 }).limit(options.limit).toArray();
  return docs.map(toScheduled);
}

/** Applies exactly the patch's fields in one atomic update, only while it is pending. */
async function updateScheduled(
  m: Mongo,
  id: string,
  patch: ScheduledPatch,
): Promise<ScheduledRecord | null> {
  const set: Partial<ScheduledDoc> = { updatedAt: patch.updatedAt };
  if (patch.body !== undefined) set.body = patch.body ? sealedDoc(patch.body) : null;
  if (patch.mediaIds !== undefined) set.mediaIds = patch.mediaIds;
  if (patch.sendAt !== undefined) set.sendAt = patch.sendAt;
  const d = await m.scheduled.findOneAndUpdate({ _id: id, status: "pending" }, { $set: set }, {
    returnDocument: "after",
  });
  return d ? toScheduled(d) : null;
}

/** Marks it failed whatever its status (one atomic update). */
async function failScheduled(
  m: Mongo,
  id: string,
  failure: { code: string; detail: string; at: string },
): Promise<ScheduledRecord | null> {
  const d = await m.scheduled.findOneAndUpdate({ _id: id }, {
    $set: {
      status: "failed",
      failure: { code: failure.code, detail: failure.detail },
      updatedAt: failure.at,
    },
  }, { returnDocument: "after" });
  return d ? toScheduled(d) : null;
}

async function deleteScheduled(m: Mongo, id: string): Promise<boolean> {
  return (await m.scheduled.deleteOne({ _id: id })).deletedCount > 0;
}

/**
 * No `RETURNING` here: reads the user's ids and deletes exactly those, until none is left, so every
 * id returned is gone and one scheduled meanwhile is neither left behind nor left out.
 */
async function deleteUserScheduled(m: Mongo, userId: string): Promise<string[]> {
  const deleted: string[] = [];
  for (;;) {
    const ids = (await m.scheduled.find({ userId }, { projection: { _id: 1 } }).toArray())
      .map((d) => d._id);
    if (ids.length === 0) return deleted;
    await m.scheduled.deleteMany({ _id: { $in: ids }, userId });
    deleted.push(...ids);
  }
}

/**
 * The MongoDB {@link ScheduledStore}: one document per scheduled message, a unique index keeping one
 * per (user, clientMsgId), and changes that are each one atomic single-document write.
 */
export class MongoScheduled implements ScheduledStore {
  constructor(private readonly m: Mongo) {}

  createScheduled(record: ScheduledRecord) {
    return createScheduled(this.m, record);
  }
  getScheduled(id: string) {
    return getScheduled(this.m, id);
  }
  listScheduled(userId: string, options: { limit: number; after?: ScheduledCursor }) {
    return listScheduled(this.m, userId, options);
  }
  updateScheduled(id: string, patch: ScheduledPatch) {
    return updateScheduled(this.m, id, patch);
  }
  failScheduled(id: string, failure: { code: string; detail: string; at: string }) {
    return failScheduled(this.m, id, failure);
  }
  deleteScheduled(id: string) {
    return deleteScheduled(this.m, id);
  }
  deleteUserScheduled(userId: string) {
    return deleteUserScheduled(this.m, userId);
  }
}
