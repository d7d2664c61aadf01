import type {
  ScheduledCursor,
  ScheduledPatch,
  ScheduledRecord,
  ScheduledStore,
} from "../scheduled.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, type Row, str, strOrNull } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** Maps a `scheduled_messages` row (also used by the SQLite → MongoDB migration). */
export function toScheduled(r: Row): ScheduledRecord {
  const keyId = strOrNull(r.body_key_id);
  const failure = strOrNull(r.failure);
  return {
    id: str(r.id),
    userId: str(r.user_id),
    conversationId: str(r.conversation_id),
    clientMsgId: str(r.client_msg_id),
    body: keyId ? { keyId, blob: bytes(r.body) } : null,
    mediaIds: JSON.parse(str(r.media_ids)),
    sendAt: str(r.send_at),
    status: str(r.status) as ScheduledRecord["status"],
    failure: failure ? JSON.parse(failure) : null,
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

function getScheduled(db: Db, id: string): ScheduledRecord | null {
  const r = db.get("SELECT * FROM scheduled_messages WHERE id = ?", id);
  return r ? toScheduled(r) : null;
}

function listScheduled(
  db: Db,
  userId: string,
  o: { limit: number; after?: ScheduledCursor },
): ScheduledRecord[] {
  const after = o.after ?? { sendAt: "", id: "" };
  return db.all(
    `SELECT * FROM scheduled_messages WHERE user_id = ? AND (send_at, id) > (?, ?)
     ORDER BY send_at, id LIMIT ?`,
    userId,
    after.sendAt,
    after.id,
    o.limit,
  ).map(toScheduled);
}

function createScheduled(
  db: Db,
  s: ScheduledRecord,
): { status: "created" | "exists"; scheduled: ScheduledRecord } {
  const inserted = db.run(
    `INSERT INTO scheduled_messages (id, user_id, conversation_id, client_msg_id, body_key_id, body,
       media_ids, send_at, status, failure, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, client_msg_id) DO NOTHING`,
    s.id,
    s.userId,
    s.conversationId,
    s.clientMsgId,
    s.body?.keyId ?? null,
    s.body?.blob ?? null,
    JSON.stringify(s.mediaIds),
    s.sendAt,
    s.status,
    s.failure ? JSON.stringify(s.failure) : null,
    s.createdAt,
    s.updatedAt,
  );
  if (inserted > 0) return { status: "created", scheduled: s };
  const r = db.get(
    "SELECT * FROM scheduled_messages WHERE user_id = ? AND client_msg_id = ?",
    s.userId,
    s.clientMsgId,
  );
  return { status: "exists", scheduled: toScheduled(r!) };
}

function updateScheduled(db: Db, id: string, p: ScheduledPatch): ScheduledRecord | null {
  const sets = ["updated_at = ?"];
  const params: Array<string | Uint8Array | null> = [p.updatedAt];
  if (p.body !== undefined) {
    sets.push("body_key_id = ?", "body = ?");
    params.push(p.body?.keyId ?? null, p.body?.blob ?? null);
  }
  if (p.mediaIds !== undefined) sets.push("media_ids = ?"), params.push(JSON.stringify(p.mediaIds));
  if (p.sendAt !== undefined) sets.push("send_at = ?"), params.push(p.sendAt);
  const changed = db.run(
    `UPDATE scheduled_messages SET ${sets.join(", ")} WHERE id = ? AND status = 'pending'`,
    ...params,
    id,
  );
  return changed > 0 ? getScheduled(db, id) : null;
}

function failScheduled(
  db: Db,
  id: string,
  f: { code: string; detail: string; at: string },
): ScheduledRecord | null {
  const changed = db.run(
    "UPDATE scheduled_messages SET status = 'failed', failure = ?, updated_at = ? WHERE id = ?",
    JSON.stringify({ code: f.code, detail: f.detail }),
    f.at,
    id,
  );
  return changed > 0 ? getScheduled(db, id) : null;
}

function deleteUserScheduled(db: Db, userId: string): string[] {
  return db.all("DELETE FROM scheduled_messages WHERE user_id = ? RETURNING id", userId)
    .map((r) => str(r.id));
}

/** The scheduled-message writes, run on the writer thread (see `_writes.ts`). */
export const scheduledWrites = {
  createScheduled,
  updateScheduled,
  failScheduled,
  deleteScheduled: (db: Db, id: string) =>
    db.run("DELETE FROM scheduled_messages WHERE id = ?", id) > 0,
  deleteUserScheduled,
};

/** The SQLite {@link ScheduledStore}. */
export function sqliteScheduled(db: Db, writer: Writer): ScheduledStore {
  return {
    ...bindReads(db, { getScheduled, listScheduled }),
    ...bindWrites(writer, scheduledWrites),
  };
}
