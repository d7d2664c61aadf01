import { conflict, notFound } from "../../domain/errors.ts";
import type { EventRecord, SystemInfo } from "../../domain/types.ts";
import type { Change, CommitResult, Expectation, Mutation } from "../store.ts";
import { type Db, num, str } from "./_db.ts";
import { insertMember } from "./_conversations.ts";
import { toMessage } from "./_rows.ts";

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

/** Applies one mutation; returns whether it changed anything. */
function apply(db: Db, c: Change, seq: number, m: Mutation): boolean {
  switch (m.op) {
    case "insertMessage": {
      const x = m.message;
      db.run(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id, kind, body, body_key,
           media_ids, reply_to, mentions, system, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      );
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
    case "editMessage":
      return db.run(
        `UPDATE messages SET body = ?, body_key = ?, edited_at = ?
         WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL`,
        m.body.blob,
        m.body.keyId,
        m.editedAt,
        m.messageId,
        c.conversationId,
      ) > 0;
    case "eraseMessage": {
      const changed = db.run(
        `UPDATE messages SET body = NULL, body_key = NULL, media_ids = '[]', mentions = '[]',
           reply_to = NULL, deleted_at = ?
         WHERE id = ? AND conversation_id = ? AND deleted_at IS NULL`,
        m.deletedAt,
        m.messageId,
        c.conversationId,
      );
      db.run("DELETE FROM reactions WHERE message_id = ?", m.messageId);
      db.run("DELETE FROM message_media WHERE message_id = ?", m.messageId);
      return changed > 0;
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
    case "updateConversation": {
      const p = m.patch;
      const sets: string[] = [];
      const params: Array<string | number | null> = [];
      if (p.name !== undefined) sets.push("name = ?"), params.push(p.name);
      if (p.description !== undefined) sets.push("description = ?"), params.push(p.description);
      if (p.avatarMediaId !== undefined) {
        sets.push("avatar_media_id = ?"), params.push(p.avatarMediaId);
      }
      if (p.settings !== undefined) {
        sets.push("settings = ?"), params.push(JSON.stringify(p.settings));
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
      db.run(
        `UPDATE members SET read_seq = max(read_seq, ?), delivered_seq = max(delivered_seq, ?)
         WHERE conversation_id = ? AND user_id = ?`,
        seq,
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
  if (c.idempotency) {
    const r = db.get(
      "SELECT * FROM messages WHERE sender_id = ? AND client_msg_id = ?",
      c.idempotency.senderId,
      c.idempotency.clientMsgId,
    );
    if (r) {
      const message = toMessage(r);
      if (message.conversationId !== c.conversationId) {
        throw conflict("clientMsgId was already used for a message in another conversation");
      }
      return { status: "duplicate", message };
    }
  }
  return db.transaction((): CommitResult => {
    const head = db.get(
      `UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?
       WHERE id = ? AND deleted_at IS NULL RETURNING last_seq`,
      c.at,
      c.conversationId,
    );
    if (!head) throw notFound("Conversation not found");
    const seq = num(head.last_seq);
    for (const e of c.expect ?? []) check(db, c.conversationId, e);
    let changed = false;
    for (const m of c.mutations) changed = apply(db, c, seq, m) || changed;
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
    const row = c.messageId
      ? db.get("SELECT * FROM messages WHERE id = ?", c.messageId)
      : undefined;
    return { status: "committed", event, message: row ? toMessage(row) : null };
  });
}

/** Thrown inside the savepoint to undo the seq increment when nothing changed. */
const UNCHANGED = new Error("unchanged");

/** {@link applyChange}, mapping "nothing changed" to an `unchanged` result. */
export function commitOne(db: Db, c: Change): CommitResult {
  try {
    return applyChange(db, c);
  } catch (err) {
    if (err === UNCHANGED) return { status: "unchanged" };
    throw err;
  }
}

interface Pending {
  change: Change;
  resolve: (r: CommitResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: changes that arrive within `windowMs` of each other (or until `maxBatch` are queued)
 * are written in one transaction, each in its own savepoint so one failure does not undo the others.
 * Promises resolve only after the transaction has committed, so an ack is never sent for data that
 * could still be lost.
 */
export class CommitQueue {
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Sizes of the batches flushed so far (for metrics and the benchmark). */
  batches = 0;
  batchedChanges = 0;

  constructor(
    private readonly db: Db,
    private readonly options: { enabled: boolean; maxBatch: number; windowMs: number },
  ) {}

  enqueue(change: Change): Promise<CommitResult> {
    if (!this.options.enabled) {
      try {
        return Promise.resolve(this.db.transaction(() => commitOne(this.db, change)));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      if (this.#pending.length >= this.options.maxBatch) this.flush();
      else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.flush(), this.options.windowMs);
      }
    });
  }

  /** Writes everything queued now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: CommitResult } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          try {
            outcomes.push({
              ok: true,
              value: this.db.transaction(() => commitOne(this.db, p.change)),
            });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.batches++;
    this.batchedChanges += batch.length;
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}
