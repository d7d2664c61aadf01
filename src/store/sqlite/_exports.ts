import type { DataExportPatch, DataExportRecord, ExportStatus } from "../../domain/privacy.ts";
import type { ExportStore } from "../exports.ts";
import { type Db, type Row, str, strOrNull } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";

function toExport(r: Row): DataExportRecord {
  return {
    id: str(r.id),
    userId: str(r.user_id),
    conversationId: strOrNull(r.conversation_id),
    status: str(r.status) as ExportStatus,
    keyId: strOrNull(r.key_id),
    size: r.size === null ? null : Number(r.size),
    failureReason: strOrNull(r.failure_reason),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: strOrNull(r.lease_until),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    completedAt: strOrNull(r.completed_at),
    expiresAt: str(r.expires_at),
  };
}

export function createExport(db: Db, e: DataExportRecord): void {
  db.run(
    `INSERT INTO data_exports (id, user_id, conversation_id, status, key_id, size, failure_reason,
       lease_owner, lease_until, created_at, updated_at, completed_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    e.id,
    e.userId,
    e.conversationId,
    e.status,
    e.keyId,
    e.size,
    e.failureReason,
    e.leaseOwner,
    e.leaseUntil,
    e.createdAt,
    e.updatedAt,
    e.completedAt,
    e.expiresAt,
  );
}

export function getExport(db: Db, id: string): DataExportRecord | null {
  const r = db.get("SELECT * FROM data_exports WHERE id = ?", id);
  return r ? toExport(r) : null;
}

export function updateExport(
  db: Db,
  id: string,
  patch: DataExportPatch,
  options: { whenStatus?: ExportStatus } = {},
): DataExportRecord | null {
  return db.transaction(() => {
    const before = getExport(db, id);
    const { whenStatus } = options;
    if (!before || (whenStatus && before.status !== whenStatus)) return null;
    const e: DataExportRecord = { ...before, ...patch };
    db.run(
      `UPDATE data_exports SET status = ?, key_id = ?, size = ?, failure_reason = ?,
         lease_owner = ?, lease_until = ?, updated_at = ?, completed_at = ?, expires_at = ?
       WHERE id = ?`,
      e.status,
      e.keyId,
      e.size,
      e.failureReason,
      e.leaseOwner,
      e.leaseUntil,
      e.updatedAt,
      e.completedAt,
      e.expiresAt,
      id,
    );
    return e;
  });
}

export function listExports(db: Db, userId: string): DataExportRecord[] {
  return db.all(
    "SELECT * FROM data_exports WHERE user_id = ? ORDER BY created_at DESC, id DESC",
    userId,
  ).map(toExport);
}

export function dueExports(db: Db, now: string, limit: number): DataExportRecord[] {
  return db.all(
    `SELECT * FROM data_exports WHERE expires_at <= ?1
     UNION
     SELECT * FROM data_exports WHERE status = 'processing' AND lease_until <= ?1
     ORDER BY id LIMIT ?2`,
    now,
    limit,
  ).map(toExport);
}

/** The data export writes, run on the writer thread (see `_writes.ts`). */
export const exportWrites = {
  createExport,
  updateExport,
  deleteExport: (db: Db, id: string) => db.run("DELETE FROM data_exports WHERE id = ?", id) > 0,
};

/** The SQLite {@link ExportStore}. */
export function sqliteExports(db: Db, writer: Writer): ExportStore {
  return {
    ...bindReads(db, { getExport, listExports, dueExports }),
    ...bindWrites(writer, exportWrites),
  };
}
