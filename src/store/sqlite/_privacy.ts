import { holdBeforeErasure } from "./_archive.ts";
import type { MediaRecord } from "../../domain/media.ts";
import type { MessageRecord, Session } from "../../domain/types.ts";
import type {
  ErasureFinish,
  ErasureStart,
  PrivacyStore,
  ReactionCursor,
  RetentionBatch,
  SentCursor,
  UserReaction,
} from "../privacy.ts";
import { foldName } from "./_accounts.ts";
import { type Db, num, placeholders, str } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";
import { toMedia } from "./_media.ts";
import { toMessage, toSession } from "./_rows.ts";

export function allSessions(db: Db, userId: string): Session[] {
  return db.all(
    "SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC",
    userId,
  ).map(toSession);
}

export function listSentMessages(
  db: Db,
  userId: string,
  options: { limit: number; after?: SentCursor },
): MessageRecord[] {
  const after = options.after ?? { conversationId: "", seq: 0 };
  return db.all(
    `SELECT * FROM messages
     WHERE sender_id = ? AND kind != 'system' AND deleted_at IS NULL
       AND (conversation_id > ? OR (conversation_id = ? AND seq > ?))
     ORDER BY conversation_id, seq LIMIT ?`,
    userId,
    after.conversationId,
    after.conversationId,
    after.seq,
    options.limit,
  ).map(toMessage);
}

export function listUserReactions(
  db: Db,
  userId: string,
  options: { limit: number; after?: ReactionCursor },
): UserReaction[] {
  const after = options.after ?? { messageId: "", emoji: "" };
  return db.all(
    `SELECT r.message_id, r.emoji, r.created_at, m.conversation_id
     FROM reactions r JOIN messages m ON m.id = r.message_id
     WHERE r.user_id = ? AND (r.message_id > ? OR (r.message_id = ? AND r.emoji > ?))
     ORDER BY r.message_id, r.emoji LIMIT ?`,
    userId,
    after.messageId,
    after.messageId,
    after.emoji,
    options.limit,
  ).map((r) => ({
    messageId: str(r.message_id),
    conversationId: str(r.conversation_id),
    emoji: str(r.emoji),
    createdAt: str(r.created_at),
  }));
}

export function listMediaByOwner(
  db: Db,
  ownerId: string,
  options: { limit: number; afterId?: string },
): MediaRecord[] {
  return db.all(
    "SELECT * FROM media WHERE owner_id = ? AND id > ? ORDER BY id LIMIT ?",
    ownerId,
    options.afterId ?? "",
    options.limit,
  ).map(toMedia);
}

export function beginErasure(
  db: Db,
  userId: string,
  start: ErasureStart,
): { keyIds: string[] } | null {
  return db.transaction(() => {
    const changed = db.run(
      `UPDATE users SET username = ?, display_name = ?, display_name_fold = ?, password_hash = '!',
         role = 'user', avatar_media_id = NULL, status_text = NULL, presence = 'invisible',
         privacy_last_seen = 'nobody', last_seen_at = NULL, deleted_at = coalesce(deleted_at, ?)
       WHERE id = ?`,
      start.username,
      start.displayName,
      foldName(start.displayName),
      start.at,
      userId,
    );
    if (changed === 0) return null;
    const keyIds = db.all("SELECT id FROM user_keys WHERE user_id = ?", userId).map((r) =>
      str(r.id)
    );
    db.run("DELETE FROM user_keys WHERE user_id = ?", userId);
    deleteSessions(db, userId);
    return { keyIds };
  });
}

function deleteSessions(db: Db, userId: string): void {
  db.run(
    "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)",
    userId,
  );
  db.run("DELETE FROM sessions WHERE user_id = ?", userId);
}

export function finishErasure(db: Db, userId: string, at: string): ErasureFinish {
  return db.transaction(() => {
    const live = db.all(
      `SELECT id, conversation_id FROM messages
       WHERE sender_id = ? AND kind != 'system' AND deleted_at IS NULL`,
      userId,
    ).map((r) => ({ id: str(r.id), conversationId: str(r.conversation_id) }));
    for (const { id, conversationId } of live) {
      holdBeforeErasure(db, conversationId, id, at);
      db.run(
        `UPDATE messages SET body = NULL, body_key = NULL, media_ids = '[]', mentions = '[]',
           mentions_all = 0, reply_to = NULL, deleted_at = ? WHERE id = ?`,
        at,
        id,
      );
      db.run("DELETE FROM reactions WHERE message_id = ?", id);
      db.run("DELETE FROM message_edits WHERE message_id = ?", id);
      db.run("DELETE FROM pins WHERE message_id = ?", id);
      db.run("DELETE FROM message_mentions WHERE message_id = ?", id);
      db.run("DELETE FROM poll_votes WHERE message_id = ?", id);
      db.run("DELETE FROM message_media WHERE message_id = ?", id);
    }
    const reactions = db.run("DELETE FROM reactions WHERE user_id = ?", userId);
    db.run("DELETE FROM poll_votes WHERE user_id = ?", userId);
    db.run("DELETE FROM hidden_messages WHERE user_id = ?", userId);
    db.run("DELETE FROM thread_members WHERE user_id = ?", userId);
    deleteSessions(db, userId);
    // last_seen_at again: a socket closing during the erasure may have written it after the scrub.
    db.run("UPDATE users SET erased_at = ?, last_seen_at = NULL WHERE id = ?", at, userId);
    return { messages: live.length, reactions };
  });
}

export function pendingErasures(db: Db, before: string, limit: number): string[] {
  return db.all(
    `SELECT id FROM users WHERE deleted_at IS NOT NULL AND erased_at IS NULL AND deleted_at < ?
     ORDER BY deleted_at LIMIT ?`,
    before,
    limit,
  ).map((r) => str(r.id));
}

/**
 * Copies every WAL frame into the database and truncates the WAL to nothing (waiting, through the
 * busy timeout, for readers that still use older frames). True when the WAL is empty afterwards.
 */
export function checkpoint(db: Db): boolean {
  const r = db.get("PRAGMA wal_checkpoint(TRUNCATE)");
  return !!r && num(r.busy) === 0;
}

export function retentionConversations(
  db: Db,
  options: { limit: number; afterId?: string },
): Array<{ id: string; retentionDays: number }> {
  return db.all(
    `SELECT id, retention_days FROM conversations
     WHERE retention_days IS NOT NULL AND deleted_at IS NULL AND id > ?
       AND id NOT IN (SELECT conversation_id FROM legal_holds)
     ORDER BY id LIMIT ?`,
    options.afterId ?? "",
    options.limit,
  ).map((r) => ({ id: str(r.id), retentionDays: num(r.retention_days) }));
}

export function sweepRetention(
  db: Db,
  conversationId: string,
  cutoff: string,
  limit: number,
): RetentionBatch {
  return db.transaction((): RetentionBatch => {
    const oldest = db.all(
      `SELECT id, seq, created_at, media_ids, thread_id FROM messages WHERE conversation_id = ?
       ORDER BY seq LIMIT ?`,
      conversationId,
      limit,
    );
    const end = oldest.findIndex((r) => str(r.created_at) >= cutoff);
    const gone = end < 0 ? oldest : oldest.slice(0, end);
    if (gone.length === 0) return { messages: 0, messageIds: [], events: 0, mediaIds: [] };
    const ids = gone.map((r) => str(r.id));
    const boundary = num(gone.at(-1)!.seq);
    const list = placeholders(ids.length);
    let events = db.run(
      "DELETE FROM events WHERE conversation_id = ? AND seq <= ?",
      conversationId,
      boundary,
    );
    events += db.run(`DELETE FROM events WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM reactions WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM message_edits WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM pins WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM message_mentions WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM poll_votes WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM message_media WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM hidden_messages WHERE message_id IN (${list})`, ...ids);
    db.run(`DELETE FROM messages WHERE id IN (${list})`, ...ids);
    // A purged root takes its thread with it; a thread that lost replies counts what is left.
    db.run(`DELETE FROM threads WHERE root_id IN (${list})`, ...ids);
    db.run(`DELETE FROM thread_members WHERE root_id IN (${list})`, ...ids);
    const roots = [...new Set(gone.flatMap((r) => r.thread_id ? [str(r.thread_id)] : []))];
    if (roots.length) {
      db.run(
        `UPDATE threads SET reply_count = (SELECT count(*) FROM messages x WHERE x.thread_id = root_id)
         WHERE root_id IN (${placeholders(roots.length)})`,
        ...roots,
      );
    }
    const mediaIds = new Set(gone.flatMap((r) => JSON.parse(str(r.media_ids)) as string[]));
    return { messages: ids.length, messageIds: ids, events, mediaIds: [...mediaIds] };
  });
}

/** The privacy writes, run on the writer thread (see `_writes.ts`). */
export const privacyWrites = { beginErasure, finishErasure, checkpoint, sweepRetention };

/**
 * The SQLite {@link PrivacyStore}. `drain` waits for the commits still queued, so a scrub covers
 * everything committed before it was asked for.
 */
export function sqlitePrivacy(
  db: Db,
  writer: Writer,
  drain: () => Promise<void>,
  searchWriter?: Writer,
): PrivacyStore {
  const { beginErasure, finishErasure, sweepRetention } = bindWrites(writer, privacyWrites);
  return {
    ...bindReads(db, {
      allSessions,
      listSentMessages,
      listUserReactions,
      listMediaByOwner,
      pendingErasures,
      retentionConversations,
    }),
    beginErasure,
    finishErasure,
    sweepRetention,
    async scrub() {
      await drain();
      // The search file too: tokens of removed messages stay in no older WAL frame.
      for (const w of searchWriter ? [writer, searchWriter] : [writer]) {
        let done = false;
        for (let attempt = 0; attempt < 20 && !done; attempt++) {
          done = await w.write("checkpoint");
          if (!done) await new Promise((r) => setTimeout(r, 50));
        }
        if (!done) {
          throw new Error(
            "the WAL checkpoint could not complete: another connection keeps reading",
          );
        }
      }
    },
  };
}
