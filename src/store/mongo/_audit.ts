import type { Filter } from "mongodb";
import type { AuditEntry } from "../store.ts";
import type { Mongo } from "./_db.ts";
import { auditDoc, toAudit } from "./codec.ts";
import { type AuditDoc } from "./schema.ts";

export async function appendAudit(m: Mongo, e: AuditEntry): Promise<void> {
  await m.auditLog.insertOne(auditDoc(e));
}

export async function listAudit(
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
