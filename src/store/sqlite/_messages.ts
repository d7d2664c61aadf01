import type {
  MessageRecord,
  PollVotes,
  ReactionSummary,
  ThreadSummary,
} from "../../domain/types.ts";
import type {
  MessagePage,
  MessageStore,
  MessageVersion,
  PinRecord,
  ReceiptRow,
  ThreadCursor,
  ThreadMembership,
  ThreadRow,
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
  return pageOf(db, "conversation_id = ? AND in_main = 1", [conversationId], viewerId, options);
}

/** One page of the messages matching `where` (in ascending seq order) as `viewerId` sees them. */
function pageOf(
  db: Db,
  where: string,
  params: string[],
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
): MessagePage {
  if (options.after !== undefined) {
    const rows = db.all(
      `SELECT * FROM messages m WHERE ${where} AND seq > ? AND ${NOT_HIDDEN}
       ORDER BY seq ASC LIMIT ?`,
      ...params,
      options.after,
      viewerId,
      options.limit + 1,
    );
    const hasMore = rows.length > options.limit;
    return { messages: rows.slice(0, options.limit).map(toMessage), hasMore };
  }
  const rows = db.all(
    `SELECT * FROM messages m WHERE ${where} AND seq < ? AND ${NOT_HIDDEN}
     ORDER BY seq DESC LIMIT ?`,
    ...params,
    options.before ?? Number.MAX_SAFE_INTEGER,
    viewerId,
    options.limit + 1,
  );
  const hasMore = rows.length > options.limit;
  return { messages: rows.slice(0, options.limit).reverse().map(toMessage), hasMore };
}

function listThreadReplies(
  db: Db,
  conversationId: string,
  rootId: string,
  viewerId: string,
  options: { before?: number; after?: number; limit: number },
): MessagePage {
  const where = "thread_id = ? AND conversation_id = ?";
  return pageOf(db, where, [rootId, conversationId], viewerId, options);
}

function toSummary(r: Row): ThreadSummary {
  return {
    rootId: str(r.root_id),
    conversationId: str(r.conversation_id),
    replyCount: num(r.reply_count),
    lastReplyAt: str(r.last_reply_at),
    lastReplySeq: num(r.last_reply_seq),
    participantIds: JSON.parse(str(r.participant_ids)),
  };
}

function threadSummaries(db: Db, rootIds: string[]): Map<string, ThreadSummary> {
  if (rootIds.length === 0) return new Map();
  return new Map(
    db.all(
      `SELECT * FROM threads WHERE root_id IN (${placeholders(rootIds.length)})`,
      ...rootIds,
    ).map((r) => [str(r.root_id), toSummary(r)]),
  );
}

/** Live replies of others after the viewer's thread read marker, not deleted for them. */
const THREAD_UNREAD = `(SELECT count(*) FROM messages x
   WHERE x.thread_id = t.root_id AND x.seq > coalesce(
       (SELECT tm.read_seq FROM thread_members tm WHERE tm.user_id = ?1 AND tm.root_id = t.root_id), 0)
     AND x.deleted_at IS NULL AND x.sender_id IS NOT ?1
     AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?1 AND h.message_id = x.id)
  ) AS unread_count`;

function toThreadRow(r: Row): ThreadRow {
  return {
    summary: toSummary(r),
    root: toMessage(r),
    unreadCount: num(r.unread_count),
  };
}

/** The columns of a thread row: the summary, the root (as `messages` columns) and the unread count. */
const THREAD_COLUMNS = `m.*, t.root_id, t.conversation_id, t.reply_count, t.last_reply_at,
  t.last_reply_seq, t.participant_ids, ${THREAD_UNREAD}`;

const NO_CURSOR: ThreadCursor = { lastReplyAt: "\u{10FFFF}", rootId: "" };

function listThreads(
  db: Db,
  conversationId: string,
  viewerId: string,
  o: { limit: number; after?: ThreadCursor },
): ThreadRow[] {
  const after = o.after ?? NO_CURSOR;
  return db.all(
    `SELECT ${THREAD_COLUMNS} FROM threads t JOIN messages m ON m.id = t.root_id
     WHERE t.conversation_id = ?2
       AND (t.last_reply_at < ?3 OR (t.last_reply_at = ?3 AND t.root_id < ?4))
     ORDER BY t.last_reply_at DESC, t.root_id DESC LIMIT ?5`,
    viewerId,
    conversationId,
    after.lastReplyAt,
    o.after ? after.rootId : "\u{10FFFF}",
    o.limit,
  ).map(toThreadRow);
}

function listFollowedThreads(
  db: Db,
  userId: string,
  o: { limit: number; after?: ThreadCursor },
): ThreadRow[] {
  const after = o.after ?? NO_CURSOR;
  return db.all(
    `SELECT ${THREAD_COLUMNS} FROM thread_members f
       JOIN members me ON me.conversation_id = f.conversation_id AND me.user_id = f.user_id
       JOIN threads t ON t.root_id = f.root_id
       JOIN messages m ON m.id = t.root_id
     WHERE f.user_id = ?1 AND f.following = 1
       AND (t.last_reply_at < ?2 OR (t.last_reply_at = ?2 AND t.root_id < ?3))
     ORDER BY t.last_reply_at DESC, t.root_id DESC LIMIT ?4`,
    userId,
    after.lastReplyAt,
    o.after ? after.rootId : "\u{10FFFF}",
    o.limit,
  ).map(toThreadRow);
}

function advanceThreadMarker(
  db: Db,
  conversationId: string,
  rootId: string,
  userId: string,
  seq: number,
): number | null {
  const r = db.get(
    `INSERT INTO thread_members (user_id, root_id, conversation_id, read_seq) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (user_id, root_id) DO UPDATE SET read_seq = ?4 WHERE read_seq < ?4
     RETURNING read_seq`,
    userId,
    rootId,
    conversationId,
    seq,
  );
  return r ? num(r.read_seq) : null;
}

function listThreadMemberships(db: Db, userId: string): ThreadMembership[] {
  return db.all(
    "SELECT * FROM thread_members WHERE user_id = ? ORDER BY conversation_id, root_id",
    userId,
  ).map((r) => ({
    conversationId: str(r.conversation_id),
    rootId: str(r.root_id),
    following: num(r.following) === 1,
    readSeq: num(r.read_seq),
  }));
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
export const messageWrites = { hideMessage, advanceMarker, advanceThreadMarker };

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
      threadSummaries,
      listThreadReplies,
      listThreads,
      listFollowedThreads,
      listThreadMemberships,
    }),
    ...bindWrites(writer, messageWrites),
  };
}
