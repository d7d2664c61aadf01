import type { Filter } from "mongodb";
import type { AuditEntry, AuditStore } from "../audit.ts";
import type { Mongo } from "./_db.ts";
import { auditDoc, toAudit } from "./codec.ts";
import { type AuditDoc } from "./schema.ts";

async function appendAudit(m: Mongo, e: AuditEntry): Promise<void> {
  await m.auditLog.insertOne(auditDoc(e));
}

async function listAudit(
  m: Mongo,
  o: { limit: number; before?: string; action?: string; actorId?: string },
): Promise<AuditEntry[]> {
  const filter: Filter<AuditDoc> = {};
  if (o.before !== undefined) filter._id = { $lt: o.before };
  if (o.action) filter.action = o.action;
  if (o.actorId) filter.actorId = o.actorId;
  const docs = await m.auditLog.find(filter).sort({ _id: -1 }).limit(o.limit).toArray();
  return docs.map(toAudit);
}

/** The MongoDB {@link AuditStore}: an append-only collection, newest first by entry id. */
export class MongoAudit implements AuditStore {
  constructor(private readonly m: Mongo) {}

  appendAudit(entry: AuditEntry) {
    return appendAudit(this.m, entry);
  }
  listAudit(options: { limit: number; before?: string; action?: string; actorId?: string }) {
    return listAudit(this.m, options);
  }
}
