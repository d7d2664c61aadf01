import type { AuditEntry, AuditStore } from "../audit.ts";
import { type Db, str, strOrNull } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";

export function appendAudit(db: Db, e: AuditEntry): void {
  db.run(
    `INSERT INTO audit_log (id, at, action, actor_id, target_id, ip, user_agent, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    e.id,
    e.at,
    e.action,
    e.actorId,
    e.targetId,
    e.ip,
    e.userAgent,
    JSON.stringify(e.details),
  );
}

export function listAudit(
  db: Db,
  o: { limit: number; before?: string; action?: string; actorId?: string },
): AuditEntry[] {
  const where = ["id < ?"];
  const params: string[] = [o.before ?? "\u{10FFFF}"];
  if (o.action) where.push("action = ?"), params.push(o.action);
  if (o.actorId) where.push("actor_id = ?"), params.push(o.actorId);
  return db.all(
    `SELECT * FROM audit_log WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`,
    ...params,
    o.limit,
  ).map((r) => ({
    id: str(r.id),
    at: str(r.at),
    action: str(r.action),
    actorId: strOrNull(r.actor_id),
    targetId: strOrNull(r.target_id),
    ip: strOrNull(r.ip),
    userAgent: strOrNull(r.user_agent),
    details: JSON.parse(str(r.details)),
  }));
}

/** The audit writes, run on the writer thread (see `_writes.ts`). */
export const auditWrites = { appendAudit };

/** The SQLite {@link AuditStore}. */
export function sqliteAudit(db: Db, writer: Writer): AuditStore {
  return { ...bindReads(db, { listAudit }), ...bindWrites(writer, auditWrites) };
}
