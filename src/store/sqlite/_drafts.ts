import type { DraftRecord, DraftStore } from "../drafts.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, type Row, str } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** Maps a `drafts` row (also used by the SQLite → MongoDB migration). */
export function toDraft(r: Row): DraftRecord {
  const threadId = str(r.thread_id);
  return {
    userId: str(r.user_id),
    conversationId: str(r.conversation_id),
    threadId: threadId === "" ? null : threadId,
    body: { keyId: str(r.body_key), blob: bytes(r.body) },
    updatedAt: str(r.updated_at),
  };
}

function putDraft(db: Db, d: DraftRecord): void {
  db.run(
    `INSERT INTO drafts (user_id, conversation_id, thread_id, body, body_key, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, conversation_id, thread_id)
     DO UPDATE SET body = excluded.body, body_key = excluded.body_key, updated_at = excluded.updated_at`,
    d.userId,
    d.conversationId,
    d.threadId ?? "",
    d.body.blob,
    d.body.keyId,
    d.updatedAt,
  );
}

function getDraft(
  db: Db,
  userId: string,
  conversationId: string,
  threadId: string | null,
): DraftRecord | null {
  const r = db.get(
    "SELECT * FROM drafts WHERE user_id = ? AND conversation_id = ? AND thread_id = ?",
    userId,
    conversationId,
    threadId ?? "",
  );
  return r ? toDraft(r) : null;
}

function deleteDraft(
  db: Db,
  userId: string,
  conversationId: string,
  threadId: string | null,
): boolean {
  return db.run(
    "DELETE FROM drafts WHERE user_id = ? AND conversation_id = ? AND thread_id = ?",
    userId,
    conversationId,
    threadId ?? "",
  ) > 0;
}

function listDrafts(db: Db, userId: string): DraftRecord[] {
  return db.all("SELECT * FROM drafts WHERE user_id = ? ORDER BY updated_at DESC", userId)
    .map(toDraft);
}

/** The draft writes, run on the writer thread (see `_writes.ts`). */
export const draftWrites = {
  putDraft,
  deleteDraft,
  deleteUserDrafts: (db: Db, userId: string) =>
    db.run("DELETE FROM drafts WHERE user_id = ?", userId),
};

/** The SQLite {@link DraftStore}. */
export function sqliteDrafts(db: Db, writer: Writer): DraftStore {
  return { ...bindReads(db, { getDraft, listDrafts }), ...bindWrites(writer, draftWrites) };
}
