import type { EventRecord, MessageRecord, SystemInfo } from "../../domain/types.ts";
import type { Change, CommitResult, Expectation, Mutation } from "../store.ts";
import { type Db, num, str } from "./_db.ts";
import { insertMember } from "./_conversations.ts";
import { insertJob } from "./_jobs.ts";
import { toMessage } from "./_rows.ts";
import { holdBeforeErasure } from "./_archive.ts";
import { foldText } from "../../domain/words.ts";

export function insertEvent(db: Db, e: EventRecord): void {
  db.run(
    `INSERT INTO events (conversation_id, seq, event, actor_id, message_id, data, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    e.conversationId,
    e.seq,
    e.event,
    e.actorId,
    e.messageId,
    JSON.stringify(e.data),
    e.createdAt,
  );
}

export function insertSystemMessage(
  db: Db,
  m: {
    id: string;
    conversationId: string;
    seq: number;
    actorId: string | null;
    system: SystemInfo;
    at: string;
  },
): void {
  db.run(
    `INSERT INTO messages (id, conversation_id, seq, sender_id, kind, system, created_at)
     VALUES (?, ?, ?, ?, 'system', ?, ?)`,
    m.id,
    m.conversationId,
    m.seq,
    m.actorId,
    JSON.stringify(m.system),
    m.at,
  );
}

function check(db: Db, conversationId: string, e: Expectation): void {
  if (e.kind === "memberLimit") {
    const r = db.get("SELECT member_count FROM conversations WHERE id = ?", conversationId);
    if (!r || num(r.member_count) > e.max) throw e.error;
    return;
  }
  if (e.kind === "pinLimit") {
    const r = db.get("SELECT count(*) AS n FROM pins WHERE conversation_id = ?", conversationId);
    if (num(r!.n) > e.max) throw e.error;
    return;
  }
  if (e.kind === "slowMode") {
    const ok = db.run(
      `UPDATE members SET last_sent_at = ? WHERE conversation_id = ? AND user_id = ?
         AND (last_sent_at IS NULL OR last_sent_at <= ?)`,
      e.at,
      conversationId,
      e.userId,
      e.since,
    );
    if (ok === 0) throw e.error;
    return;
  }
  if (e.kind === "notBanned") {
    const r = db.get(
      `SELECT 1 AS x FROM bans WHERE conversation_id = ? AND user_id = ?
         AND (until IS NULL OR until > ?)`,
      conversationId,
      e.userId,
      e.at,
    );
    if (r) throw e.error;
    return;
  }
  if (e.kind === "inviteUse") {
    const ok = db.run(
      `UPDATE invite_links SET uses = uses + 1 WHERE code = ? AND conversation_id = ?
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
         AND (max_uses IS NULL OR uses < max_uses)`,
      e.code,
      conversationId,
      e.at,
    );
    if (ok === 0) throw e.error;
    return;
  }
  if (e.kind === "member") {
    const r = db.get(
      "SELECT role FROM members WHERE conversation_id = ? AND user_id = ?",
      conversationId,
      e.userId,
    );
    if (!r || (e.roles && !e.roles.includes(str(r.role) as never))) throw e.error;
    return;
  }
  const r = db.get(
    "SELECT sender_id, deleted_at FROM messages WHERE id = ? AND conversation_id = ?",
    e.messageId,
    conversationId,
  );
  if (!r) throw e.error;
  if (e.senderId !== undefined && r.sender_id !== e.senderId) throw e.error;
  if (e.live && r.deleted_at !== null) throw e.error;
}

/** A unique-index hit on (sender, clientMsgId): the message was already stored. */
class Duplicate extends Error {}

function insertMessageRow(db: Db, c: Change, seq: number, x: Omit<MessageRecord, "seq">): void {
  try {
    db.run(
      `INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id, kind, body, body_key,
           media_ids, reply_to, mentions, system, created_at, expires_at, forwarded, mentions_all,
           poll, thread_id, in_main)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      x.id,
      c.conversationId,
      seq,
      x.senderId,
      x.clientMsgId,
      x.kind,
      x.body?.blob ?? null,
      x.body?.keyId ?? null,
      JSON.stringify(x.mediaIds),
      x.replyTo,
      JSON.stringify(x.mentions),
      x.system ? JSON.stringify(x.system) : null,
      x.createdAt,
      x.expiresAt ?? null,
      x.forwarded ? JSON.stringify(x.forwarded) : null,
      x.mentionsAll ? 1 : 0,
      x.poll ? JSON.stringify(x.poll) : null,
      x.threadId ?? null,
      x.threadId && !x.alsoInConversation ? 0 : 1,
    );
    for (const userId of x.mentions) {
      if (userId === x.senderId) continue;
      db.run(
        `INSERT INTO message_mentions (user_id, conversation_id, seq, message_id, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        userId,
        c.conversationId,
        seq,
        x.id,
        x.createdAt,
      );
    }
  } catch (err) {
    if (
      c.idempotency && err instanceof Error &&
      /UNIQUE constraint failed: messages\.sender_id/.test(err.message)
    ) {
      throw new Duplicate();
    }
    throw err;
  }
}

/**
 * A reply's effect on its thread, in the reply's commit: the root's summary (count, last reply,
 * participants in order of their first reply), and who follows it from now on (the replier, whose
 * read marker moves to the reply, the users it mentions, and the root's author).
 */
function recordReply(db: Db, c: Change, seq: number, x: Omit<MessageRecord, "seq">): void {
  const rootId = x.threadId!;
  const sender = x.senderId!;
  db.run(
    `INSERT INTO threads (root_id, conversation_id, reply_count, last_reply_at, last_reply_seq,
       participant_ids) VALUES (?1, ?2, 1, ?3, ?4, json_array(?5))
     ON CONFLICT (root_id) DO UPDATE SET reply_count = reply_count + 1,
       last_reply_at = max(last_reply_at, ?3), last_reply_seq = ?4,
       participant_ids = CASE WHEN EXISTS (SELECT 1 FROM json_each(participant_ids) WHERE value = ?5)
         THEN participant_ids ELSE json_insert(participant_ids, '$[#]', ?5) END`,
    rootId,
    c.conversationId,
    x.createdAt,
    seq,
    sender,
  );
  const root = db.get("SELECT sender_id FROM messages WHERE id = ?", rootId);
  const followers = new Set([sender, ...x.mentions]);
  if (root?.sender_id) followers.add(str(root.sender_id));
  for (const userId of followers) {
    db.run(
      `INSERT INTO thread_members (user_id, root_id, conversation_id, following, read_seq)
       VALUES (?1, ?2, ?3, 1, ?4)
       ON CONFLICT (user_id, root_id) DO UPDATE SET following = 1,
         read_seq = max(read_seq, excluded.read_seq)`,
      userId,
      rootId,
      c.conversationId,
      userId === sender ? seq : 0,
    );
  }
}

/** Applies one mutation; returns whether it changed anything. */
function apply(db: Db, c: Change, seq: number, m: Mutation): boolean {
  switch (m.op) {
    case "insertMessage": {
      const x = m.message;
      insertMessageRow(db, c, seq, x);
      if (x.threadId) recordReply(db, c, seq, x);
      // References from messages to media, for access checks and release.
      for (const mediaId of x.mediaIds) {
        db.run(
          `INSERT OR IGNORE INTO message_media (media_id, message_id, conversation_id)
           VALUES (?, ?, ?)`,
          mediaId,
          x.id,
          c.conversationId,
        );
      }
      return true;
    }
    case "editMessage": {
      // The history keeps the text as first sent (version 0) and every edit after it.
      db.run(
        `INSERT INTO message_edits (message_id, version, body, body_key, edited_at)
         SELECT id, 0, body, body_key, created_at FROM messages
         WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL AND body IS NOT NULL
         ON CONFLICT DO NOTHING`,
        m.messageId,
        c.conversationId,
      );
      const edited = db.run(
        `UPDATE messages SET body = ?, body_key = ?, edited_at = ?
         WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL`,
        m.body.blob,
        m.body.keyId,
        m.editedAt,
        m.messageId,
        c.conversationId,
      ) > 0;
      if (edited) {
        db.run(
          `INSERT INTO message_edits (message_id, version, body, body_key, edited_at)
           SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ? FROM message_edits WHERE message_id = ?`,
          m.messageId,
          m.body.blob,
          m.body.keyId,
          m.editedAt,
          m.messageId,
        );
      }
      return edited;
    }
    case "eraseMessage": {
      holdBeforeErasure(db, c.conversationId, m.messageId, m.deletedAt);
      const changed = db.run(
        `UPDATE messages SET body = NULL, body_key = NULL, media_ids = '[]', mentions = '[]',
           mentions_all = 0, reply_to = NULL, deleted_at = ?
         WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL`,
        m.deletedAt,
        m.messageId,
        c.conversationId,
      );
      db.run("DELETE FROM reactions WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM message_media WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM message_edits WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM pins WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM message_mentions WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM poll_votes WHERE message_id = ?", m.messageId);
      return changed > 0;
    }
    case "closePoll":
      return db.run(
        `UPDATE messages SET poll = json_set(poll, '$.closed', json('true'))
         WHERE id = ? AND conversation_id = ? AND kind = 'poll' AND deleted_at IS NULL
           AND coalesce(json_extract(poll, '$.closed'), 0) = 0`,
        m.messageId,
        c.conversationId,
      ) > 0;
    case "setVotes": {
      const poll = db.get(
        `SELECT 1 AS x FROM messages WHERE id = ? AND conversation_id = ? AND kind = 'poll'
           AND deleted_at IS NULL`,
        m.messageId,
        c.conversationId,
      );
      if (!poll) return false;
      const before = db.all(
        "SELECT option_id FROM poll_votes WHERE message_id = ? AND user_id = ? ORDER BY option_id",
        m.messageId,
        m.userId,
      ).map((r) => str(r.option_id));
      const after = [...new Set(m.optionIds)].sort();
      if (before.join("\n") === after.join("\n")) return false;
      db.run("DELETE FROM poll_votes WHERE message_id = ? AND user_id = ?", m.messageId, m.userId);
      for (const optionId of after) {
        db.run(
          "INSERT INTO poll_votes (message_id, user_id, option_id, voted_at) VALUES (?, ?, ?, ?)",
          m.messageId,
          m.userId,
          optionId,
          m.at,
        );
      }
      return true;
    }
    case "pinMessage": {
      const live = db.get(
        "SELECT 1 AS x FROM messages WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL",
        m.messageId,
        c.conversationId,
      );
      if (!live) return false;
      return db.run(
        `INSERT INTO pins (conversation_id, message_id, pinned_by, pinned_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        c.conversationId,
        m.messageId,
        m.userId,
        m.at,
      ) > 0;
    }
    case "unpinMessage": {
      return db.run(
        "DELETE FROM pins WHERE conversation_id = ? AND message_id = ?",
        c.conversationId,
        m.messageId,
      ) > 0;
    }
    case "addReaction":
      return db.run(
        `INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        m.messageId,
        m.userId,
        m.emoji,
        m.at,
      ) > 0;
    case "removeReaction":
      return db.run(
        "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?",
        m.messageId,
        m.userId,
        m.emoji,
      ) > 0;
    case "addMembers": {
      let added = 0;
      for (const member of m.members) added += insertMember(db, { ...member, readSeq: seq });
      db.run(
        "UPDATE conversations SET member_count = member_count + ? WHERE id = ?",
        added,
        c.conversationId,
      );
      return added > 0;
    }
    case "removeMember": {
      const removed = db.run(
        "DELETE FROM members WHERE conversation_id = ? AND user_id = ?",
        c.conversationId,
        m.userId,
      );
      db.run(
        "UPDATE conversations SET member_count = member_count - ? WHERE id = ?",
        removed,
        c.conversationId,
      );
      // Their read and delivered times are shown only to members: nothing keeps them after leaving.
      db.run(
        "DELETE FROM receipt_marks WHERE conversation_id = ? AND user_id = ?",
        c.conversationId,
        m.userId,
      );
      return removed > 0;
    }
    case "setRole":
      return db.run(
        "UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ? AND role != ?",
        m.role,
        c.conversationId,
        m.userId,
        m.role,
      ) > 0;
    case "setSilenced":
      return db.run(
        `UPDATE members SET silenced_until = ? WHERE conversation_id = ? AND user_id = ?
           AND silenced_until IS NOT ?`,
        m.until,
        c.conversationId,
        m.userId,
        m.until,
      ) > 0;
    case "updateConversation": {
      const p = m.patch;
      const sets: string[] = [];
      const params: Array<string | number | null> = [];
      if (p.name !== undefined) {
        sets.push("name = ?", "name_fold = ?"), params.push(p.name, foldText(p.name));
      }
      if (p.description !== undefined) sets.push("description = ?"), params.push(p.description);
      if (p.avatarMediaId !== undefined) {
        sets.push("avatar_media_id = ?"), params.push(p.avatarMediaId);
      }
      if (p.settings !== undefined) {
        sets.push("settings = ?", "public = ?");
        params.push(JSON.stringify(p.settings), p.settings.public ? 1 : 0);
        if (p.settings.public && p.name === undefined) {
          // A group from before discovery has no folded name yet: made public, it gets one.
          const row = db.get("SELECT name FROM conversations WHERE id = ?", c.conversationId);
          if (row?.name) sets.push("name_fold = ?"), params.push(foldText(str(row.name)));
        }
      }
      if (p.retentionDays !== undefined) {
        sets.push("retention_days = ?"), params.push(p.retentionDays);
      }
      if (sets.length === 0) return false;
      db.run(
        `UPDATE conversations SET ${sets.join(", ")} WHERE id = ?`,
        ...params,
        c.conversationId,
      );
      return true;
    }
    case "readUpTo":
      // The times are recorded too, so receipts of earlier messages show when they were read.
      db.run(
        `INSERT INTO receipt_marks (conversation_id, user_id, kind, seq, at)
         SELECT conversation_id, user_id, 'read', ?1, ?2 FROM members
           WHERE conversation_id = ?3 AND user_id = ?4 AND read_seq < ?1
         UNION ALL
         SELECT conversation_id, user_id, 'delivered', ?1, ?2 FROM members
           WHERE conversation_id = ?3 AND user_id = ?4 AND delivered_seq < ?1
         ON CONFLICT DO NOTHING`,
        seq,
        c.at,
        c.conversationId,
        m.userId,
      );
      db.run(
        `UPDATE members SET read_seq = max(read_seq, ?1), delivered_seq = max(delivered_seq, ?1)
         WHERE conversation_id = ?2 AND user_id = ?3`,
        seq,
        c.conversationId,
        m.userId,
      );
      return false;
    case "deleteConversation":
      db.run("UPDATE conversations SET deleted_at = ? WHERE id = ?", m.at, c.conversationId);
      db.run("DELETE FROM members WHERE conversation_id = ?", c.conversationId);
      db.run("UPDATE conversations SET member_count = 0 WHERE id = ?", c.conversationId);
      return true;
  }
}

/** Applies a {@link Change} inside the caller's transaction. */
export function applyChange(db: Db, c: Change): CommitResult {
  return db.transaction((): CommitResult => {
    // Activity time never moves backwards, even when commits carry slightly older timestamps.
    const head = db.get(
      `UPDATE conversations SET last_seq = last_seq + 1, updated_at = max(updated_at, ?)
       WHERE id = ? AND deleted_at IS NULL RETURNING last_seq`,
      c.at,
      c.conversationId,
    );
    if (!head) throw MISSING;
    const seq = num(head.last_seq);
    const expect = c.expect ?? [];
    const afterwards = (e: Expectation) => e.kind === "memberLimit" || e.kind === "pinLimit";
    for (const e of expect) if (!afterwards(e)) check(db, c.conversationId, e);
    let changed = false;
    for (const m of c.mutations) changed = apply(db, c, seq, m) || changed;
    for (const e of expect) if (afterwards(e)) check(db, c.conversationId, e);
    if (!changed) throw UNCHANGED;
    const event: EventRecord = {
      conversationId: c.conversationId,
      seq,
      event: c.event,
      actorId: c.actorId,
      messageId: c.messageId ?? null,
      data: c.data ?? {},
      createdAt: c.at,
    };
    insertEvent(db, event);
    for (const job of c.jobs ?? []) insertJob(db, job);
    if (c.system && c.messageId) {
      insertSystemMessage(db, {
        id: c.messageId,
        conversationId: c.conversationId,
        seq,
        actorId: c.actorId,
        system: c.system,
        at: c.at,
      });
    }
    return { status: "committed", event, message: resultMessage(db, c, seq) };
  });
}

/** The message a change created or changed, as now stored (a new one is built, not read back). */
function resultMessage(db: Db, c: Change, seq: number): MessageRecord | null {
  const inserted = c.mutations.find((m) => m.op === "insertMessage");
  if (inserted?.op === "insertMessage") return { ...inserted.message, seq };
  const row = c.messageId ? db.get("SELECT * FROM messages WHERE id = ?", c.messageId) : undefined;
  return row ? toMessage(row) : null;
}

function hasMessage(db: Db, c: Change): boolean {
  return !!db.get(
    "SELECT 1 AS x FROM messages WHERE sender_id = ? AND client_msg_id = ?",
    c.idempotency!.senderId,
    c.idempotency!.clientMsgId,
  );
}

/** The message already stored under a change's (sender, clientMsgId). */

function existing(db: Db, c: Change): CommitResult {
  const r = db.get(
    "SELECT * FROM messages WHERE sender_id = ? AND client_msg_id = ?",
    c.idempotency!.senderId,
    c.idempotency!.clientMsgId,
  );
  // Possibly in another conversation: the caller decides what that means.
  return { status: "duplicate", message: toMessage(r!) };
}

/** Thrown inside the savepoint to undo the seq increment when nothing changed. */
const UNCHANGED = new Error("unchanged");
/** Thrown inside the savepoint when the conversation does not exist or was deleted. */
const MISSING = new Error("missing");

/** {@link applyChange}, mapping "nothing changed" to an `unchanged` result. */
export function commitOne(db: Db, c: Change): CommitResult {
  try {
    return applyChange(db, c);
  } catch (err) {
    if (err === UNCHANGED) return { status: "unchanged" };
    // The savepoint was rolled back, seq increment included; answer with the first message.
    if (err instanceof Duplicate) return existing(db, c);
    // A repeat is answered with the first message even when the conditions no longer hold (the
    // sender has left since): the key is only consulted on failure, off the hot path.
    if (c.idempotency && hasMessage(db, c)) return existing(db, c);
    if (err === MISSING) return { status: "missing" };
    throw err;
  }
}
