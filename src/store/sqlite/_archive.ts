import type { MessageRecord } from "../../domain/types.ts";
import type { ArchiveStore, HeldMessage, HoldRelease, LegalHold } from "../archive.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, placeholders, type Row, str, strOrNull } from "./_db.ts";
import { toMessage } from "./_rows.ts";
import type { Writer } from "./_writer.ts";

function toHold(r: Row): LegalHold {
  return {
    conversationId: str(r.conversation_id),
    placedBy: str(r.placed_by),
    placedAt: str(r.placed_at),
    reason: strOrNull(r.reason),
  };
}

export function toHeld(r: Row): HeldMessage {
  return {
    messageId: str(r.message_id),
    conversationId: str(r.conversation_id),
    senderId: strOrNull(r.sender_id),
    body: r.body === null ? null : { keyId: str(r.body_key), blob: bytes(r.body) },
    mediaIds: JSON.parse(str(r.media_ids)),
    replyTo: strOrNull(r.reply_to),
    createdAt: str(r.created_at),
    deletedAt: strOrNull(r.deleted_at),
  };
}

function archivePage(
  db: Db,
  conversationId: string,
  afterSeq: number,
  limit: number,
): MessageRecord[] {
  return db.all(
    "SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    conversationId,
    afterSeq,
    limit,
  ).map(toMessage);
}

function getHold(db: Db, conversationId: string): LegalHold | null {
  const r = db.get("SELECT * FROM legal_holds WHERE conversation_id = ?", conversationId);
  return r ? toHold(r) : null;
}

function placeHold(db: Db, hold: LegalHold): LegalHold | null {
  return db.transaction(() => {
    const live = db.get(
      "SELECT 1 AS x FROM conversations WHERE id = ? AND deleted_at IS NULL",
      hold.conversationId,
    );
    if (!live) return null;
    db.run(
      `INSERT OR IGNORE INTO legal_holds (conversation_id, placed_by, placed_at, reason)
       VALUES (?, ?, ?, ?)`,
      hold.conversationId,
      hold.placedBy,
      hold.placedAt,
      hold.reason,
    );
    return getHold(db, hold.conversationId);
  });
}

function liftHold(db: Db, conversationId: string): HoldRelease | null {
  return db.transaction(() => {
    if (db.run("DELETE FROM legal_holds WHERE conversation_id = ?", conversationId) === 0) {
      return null;
    }
    const mediaIds = db.all(
      "SELECT DISTINCT media_id FROM held_media WHERE conversation_id = ?",
      conversationId,
    ).map((r) => str(r.media_id));
    db.run("DELETE FROM held_media WHERE conversation_id = ?", conversationId);
    const messages = db.run("DELETE FROM held_messages WHERE conversation_id = ?", conversationId);
    return { messages, mediaIds };
  });
}

function insertHeld(db: Db, h: HeldMessage): void {
  const added = db.run(
    `INSERT OR IGNORE INTO held_messages (message_id, conversation_id, sender_id, body, body_key,
       media_ids, reply_to, created_at, deleted_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    h.messageId,
    h.conversationId,
    h.senderId,
    h.body?.blob ?? null,
    h.body?.keyId ?? null,
    JSON.stringify(h.mediaIds),
    h.replyTo,
    h.createdAt,
    h.deletedAt,
  );
  if (!added) return;
  for (const mediaId of new Set(h.mediaIds)) {
    db.run(
      `INSERT OR IGNORE INTO held_media (media_id, message_id, conversation_id) VALUES (?, ?, ?)`,
      mediaId,
      h.messageId,
      h.conversationId,
    );
  }
}

function preserveHeld(db: Db, messages: HeldMessage[]): void {
  db.transaction(() => {
    for (const h of messages) {
      if (db.get("SELECT 1 AS x FROM legal_holds WHERE conversation_id = ?", h.conversationId)) {
        insertHeld(db, h);
      }
    }
  });
}

/**
 * Inside the caller's transaction, before a message's content is erased: when its conversation is on
 * hold, its content goes into the hold (a copy kept ahead of an erasure stays, now marked deleted).
 */
export function holdBeforeErasure(
  db: Db,
  conversationId: string,
  messageId: string,
  deletedAt: string,
): void {
  if (!db.get("SELECT 1 AS x FROM legal_holds WHERE conversation_id = ?", conversationId)) return;
  const r = db.get(
    "SELECT * FROM messages WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL",
    messageId,
    conversationId,
  );
  if (!r) return;
  const m = toMessage(r);
  insertHeld(db, {
    messageId: m.id,
    conversationId,
    senderId: m.senderId,
    body: m.body,
    mediaIds: m.mediaIds,
    replyTo: m.replyTo,
    createdAt: m.createdAt,
    deletedAt,
  });
  db.run(
    "UPDATE held_messages SET deleted_at = ? WHERE message_id = ? AND deleted_at IS NULL",
    deletedAt,
    messageId,
  );
}

function heldMessages(
  db: Db,
  conversationId: string,
  messageIds: string[],
): Map<string, HeldMessage> {
  const out = new Map<string, HeldMessage>();
  for (let i = 0; i < messageIds.length; i += 500) {
    const ids = messageIds.slice(i, i + 500);
    for (
      const r of db.all(
        `SELECT * FROM held_messages WHERE conversation_id = ? AND message_id IN (${
          placeholders(ids.length)
        })`,
        conversationId,
        ...ids,
      )
    ) out.set(str(r.message_id), toHeld(r));
  }
  return out;
}

/** The archive writes, run on the writer thread (see `_writes.ts`). */
export const archiveWrites = { placeHold, liftHold, preserveHeld };

/** The SQLite {@link ArchiveStore}. */
export function sqliteArchive(db: Db, writer: Writer): ArchiveStore {
  return {
    ...bindReads(db, {
      archivePage,
      getHold,
      heldMessages,
      listHolds: (db: Db) =>
        db.all("SELECT * FROM legal_holds ORDER BY conversation_id").map(toHold),
    }),
    ...bindWrites(writer, archiveWrites),
  };
}
