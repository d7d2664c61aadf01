import type { MessageRecord, PollVotes, ReactionSummary } from "../../domain/types.ts";
import type {
  MessagePage,
  MessageStore,
  MessageVersion,
  PinRecord,
  ReceiptRow,
} from "../messages.ts";
import { bytes, type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";
import { toMessage } from "./_rows.ts";
import { groupUsers } from "../_group.ts";

export function getMessage(db: Db, conversationId: string, id: string): MessageRecord | null {
  const r = db.get(
    "SELECT * FROM messages WHERE id = ? AND conversation_id = ?",
    id,
    conversationId,
  );
  return r ? toMessage(r) : null;
}

export function getMessageByClientId(
  db: Db,
  senderId: string,
  clientMsgId: string,
): MessageRecord | null {
  const r = db.get(
    "SELECT * FROM messages WHERE sender_id = ? AND client_msg_id = ?",
    senderId,
    clientMsgId,
  );
  return r ? toMessage(r) : null;
}

const NOT_HIDDEN =
  "NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.message_id = m.id)";

export function listMessages(
  db: Db,
  conversationId: string,
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
): MessagePage {
  let rows: Row[];
  if (options.after !== undefined) {
    rows = db.all(
      `SELECT * FROM messages m WHERE conversation_id = ? AND seq > ? AND ${NOT_HIDDEN}
       ORDER BY seq ASC LIMIT ?`,
      conversationId,
      options.after,
      viewerId,
      options.limit + 1,
    );
    const hasMore = rows.length > options.limit;
    return { messages: rows.slice(0, options.limit).map(toMessage), hasMore };
  }
  rows = db.all(
    `SELECT * FROM messages m WHERE conversation_id = ? AND seq < ? AND ${NOT_HIDDEN}
     ORDER BY seq DESC LIMIT ?`,
    conversationId,
    options.before ?? Number.MAX_SAFE_INTEGER,
    viewerId,
    options.limit + 1,
  );
  const hasMore = rows.length > options.limit;
  return { messages: rows.slice(0, options.limit).reverse().map(toMessage), hasMore };
}

export function reactions(db: Db, messageIds: string[]): Map<string, ReactionSummary> {
  if (messageIds.length === 0) return new Map();
  const rows = db.all(
    `SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN (${
      placeholders(messageIds.length)
    }) ORDER BY created_at, user_id`,
    ...messageIds,
  );
  return groupUsers(
    rows.map((r) => ({ messageId: str(r.message_id), key: str(r.emoji), userId: str(r.user_id) })),
    (emoji): ReactionSummary[number] => ({ emoji, userIds: [] }),
    (e) => e.emoji,
  );
}

export function hiddenMessageIds(db: Db, userId: string, messageIds: string[]): Set<string> {
  if (messageIds.length === 0) return new Set();
  return new Set(
    db.all(
      `SELECT message_id FROM hidden_messages WHERE user_id = ? AND message_id IN (${
        placeholders(messageIds.length)
      })`,
      userId,
      ...messageIds,
    ).map((r) => str(r.message_id)),
  );
}

export function hideMessage(db: Db, userId: string, m: MessageRecord): void {
  db.run(
    `INSERT INTO hidden_messages (user_id, message_id, conversation_id) VALUES (?, ?, ?)
     ON CONFLICT DO NOTHING`,
    userId,
    m.id,
    m.conversationId,
  );
}

export function advanceMarker(
  db: Db,
  conversationId: string,
  userId: string,
  kind: "read" | "delivered",
  seq: number,
  at: string,
): number | null {
  return db.transaction(() => {
    const col = kind === "read" ? "read_seq" : "delivered_seq";
    const changed = db.run(
      `UPDATE members SET ${col} = ? WHERE conversation_id = ? AND user_id = ? AND ${col} < ?`,
      seq,
      conversationId,
      userId,
      seq,
    );
    if (changed === 0) return null;
    db.run(
      `INSERT INTO receipt_marks (conversation_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      conversationId,
      userId,
      kind,
      seq,
      at,
    );
    return seq;
  });
}

export function receipts(db: Db, conversationId: string, seq: number): ReceiptRow[] {
  const mark = (kind: string) =>
    `(SELECT r.at FROM receipt_marks r WHERE r.conversation_id = m.conversation_id
       AND r.user_id = m.user_id AND r.kind = '${kind}' AND r.seq >= ? ORDER BY r.seq LIMIT 1)`;
  return db.all(
    `SELECT m.user_id, ${mark("delivered")} AS delivered_at, ${mark("read")} AS read_at
     FROM members m WHERE m.conversation_id = ?
       AND m.joined_at <= (SELECT x.created_at FROM messages x WHERE x.conversation_id = ? AND x.seq = ?)
     ORDER BY m.joined_at, m.user_id`,
    seq,
    seq,
    conversationId,
    conversationId,
    seq,
  ).map((r) => {
    const readAt = strOrNull(r.read_at);
    const deliveredAt = strOrNull(r.delivered_at);
    // Reading implies delivery; the earlier of the two is when it arrived.
    const delivered = deliveredAt && readAt
      ? (deliveredAt < readAt ? deliveredAt : readAt)
      : deliveredAt ?? readAt;
    return { userId: str(r.user_id), deliveredAt: delivered, readAt };
  });
}

function messageVersions(db: Db, messageId: string): MessageVersion[] {
  return db.all(
    "SELECT * FROM message_edits WHERE message_id = ? ORDER BY version",
    messageId,
  ).map((r) => ({
    version: num(r.version),
    body: { keyId: str(r.body_key), blob: bytes(r.body) },
    editedAt: str(r.edited_at),
  }));
}

function listPins(db: Db, conversationId: string): PinRecord[] {
  return db.all(
    "SELECT * FROM pins WHERE conversation_id = ? ORDER BY pinned_at DESC, message_id DESC",
    conversationId,
  ).map((r) => ({
    messageId: str(r.message_id),
    pinnedBy: str(r.pinned_by),
    pinnedAt: str(r.pinned_at),
  }));
}

function listMentions(
  db: Db,
  userId: string,
  o: { limit: number; before?: { createdAt: string; id: string } },
): MessageRecord[] {
  const before = o.before ?? { createdAt: "\u{10FFFF}", id: "" };
  return db.all(
    `SELECT x.* FROM (
       SELECT m.* FROM message_mentions mm
         JOIN members me ON me.conversation_id = mm.conversation_id AND me.user_id = mm.user_id
         JOIN messages m ON m.id = mm.message_id
       WHERE mm.user_id = ?1 AND m.deleted_at IS NULL
         AND (mm.created_at < ?2 OR (mm.created_at = ?2 AND mm.message_id < ?3))
       UNION
       SELECT m.* FROM members me
         JOIN messages m ON m.conversation_id = me.conversation_id AND m.mentions_all = 1
       WHERE me.user_id = ?1 AND m.deleted_at IS NULL AND m.sender_id IS NOT ?1
         AND (m.created_at < ?2 OR (m.created_at = ?2 AND m.id < ?3))
     ) x ORDER BY x.created_at DESC, x.id DESC LIMIT ?4`,
    userId,
    before.createdAt,
    o.before ? before.id : "\u{10FFFF}",
    o.limit,
  ).map(toMessage);
}

function pollVotes(db: Db, messageIds: string[]): Map<string, PollVotes> {
  if (messageIds.length === 0) return new Map();
  const rows = db.all(
    `SELECT message_id, user_id, option_id FROM poll_votes
     WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY voted_at, user_id`,
    ...messageIds,
  );
  return groupUsers(
    rows.map((r) => ({
      messageId: str(r.message_id),
      key: str(r.option_id),
      userId: str(r.user_id),
    })),
    (optionId): PollVotes[number] => ({ optionId, userIds: [] }),
    (e) => e.optionId,
  );
}

function listUserVotes(
  db: Db,
  userId: string,
): Array<{ messageId: string; optionIds: string[]; at: string }> {
  const out = new Map<string, { messageId: string; optionIds: string[]; at: string }>();
  for (
    const r of db.all(
      "SELECT * FROM poll_votes WHERE user_id = ? ORDER BY message_id, option_id",
      userId,
    )
  ) {
    const id = str(r.message_id);
    const v = out.get(id) ?? { messageId: id, optionIds: [], at: str(r.voted_at) };
    v.optionIds.push(str(r.option_id));
    out.set(id, v);
  }
  return [...out.values()];
}

/** The message writes, run on the writer thread (see `_writes.ts`). */
export const messageWrites = { hideMessage, advanceMarker };

/** The SQLite {@link MessageStore}: reads on the main connection, writes on the writer thread. */
export function sqliteMessages(db: Db, writer: Writer): MessageStore {
  return {
    ...bindReads(db, {
      getMessage,
      getMessageByClientId,
      listMessages,
      reactions,
      hiddenMessageIds,
      receipts,
      messageVersions,
      listPins,
      listMentions,
      pollVotes,
      listUserVotes,
    }),
    ...bindWrites(writer, messageWrites),
  };
}
