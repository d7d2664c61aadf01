import type { Conversation, Member } from "../../domain/types.ts";
import {
  type ConversationListItem,
  type ConversationStore,
  directPeer,
  type ListCursor,
  type MemberCursor,
  type NewConversation,
} from "../conversations.ts";
import { foldText } from "../../domain/words.ts";
import { type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";
import { insertEvent, insertSystemMessage } from "./_commit.ts";
import { MEMBER_COLUMNS_AS_M, toConversation, toMember, toMessage } from "./_rows.ts";

export function createConversation(
  db: Db,
  input: NewConversation,
): { conversation: Conversation; created: boolean } {
  return db.transaction(() => {
    const c = input.conversation;
    const inserted = db.run(
      `INSERT INTO conversations (id, type, direct_key, name, description, avatar_media_id, settings,
         created_by, created_at, updated_at, last_seq, member_count, public, name_fold)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (direct_key) DO NOTHING`,
      c.id,
      c.type,
      input.directKey ?? null,
      c.name,
      c.description,
      c.avatarMediaId,
      JSON.stringify(c.settings),
      c.createdBy,
      c.createdAt,
      c.createdAt,
      input.members.length,
      c.settings.public ? 1 : 0,
      c.name === null ? null : foldText(c.name),
    );
    if (inserted === 0) {
      const existing = db.get("SELECT * FROM conversations WHERE direct_key = ?", input.directKey!);
      return { conversation: toConversation(existing!), created: false };
    }
    for (const m of input.members) insertMember(db, m);
    insertEvent(db, {
      conversationId: c.id,
      seq: 1,
      event: input.event.event,
      actorId: input.event.actorId,
      messageId: input.systemMessageId,
      data: input.event.data,
      createdAt: c.createdAt,
    });
    insertSystemMessage(db, {
      id: input.systemMessageId,
      conversationId: c.id,
      seq: 1,
      actorId: input.event.actorId,
      system: input.system,
      at: c.createdAt,
    });
    return { conversation: getConversation(db, c.id)!, created: true };
  });
}

export function insertMember(db: Db, m: Member): number {
  return db.run(
    `INSERT INTO members (conversation_id, user_id, role, joined_at, read_seq, delivered_seq, muted,
       muted_until, archived)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    m.conversationId,
    m.userId,
    m.role,
    m.joinedAt,
    m.readSeq,
    m.deliveredSeq,
    m.muted ? 1 : 0,
    m.mutedUntil,
    m.archived ? 1 : 0,
  );
}

export function getConversation(db: Db, id: string): Conversation | null {
  const r = db.get("SELECT * FROM conversations WHERE id = ?", id);
  return r ? toConversation(r) : null;
}

export function getMember(db: Db, conversationId: string, userId: string): Member | null {
  const r = db.get(
    "SELECT * FROM members WHERE conversation_id = ? AND user_id = ?",
    conversationId,
    userId,
  );
  return r ? toMember(r) : null;
}

export function getMembers(db: Db, conversationId: string, userIds: string[]): Member[] {
  if (userIds.length === 0) return [];
  return db.all(
    `SELECT * FROM members WHERE conversation_id = ? AND user_id IN (${
      placeholders(userIds.length)
    })`,
    conversationId,
    ...userIds,
  ).map((r) => toMember(r));
}

export function listMembers(
  db: Db,
  conversationId: string,
  options: { limit: number; after?: MemberCursor },
): Member[] {
  const after = options.after ?? { joinedAt: "", userId: "" };
  return db.all(
    `SELECT * FROM members WHERE conversation_id = ?
       AND (joined_at > ? OR (joined_at = ? AND user_id > ?))
     ORDER BY joined_at, user_id LIMIT ?`,
    conversationId,
    after.joinedAt,
    after.joinedAt,
    after.userId,
    options.limit,
  ).map((r) => toMember(r));
}

export function memberIds(db: Db, conversationId: string): string[] {
  return db.all("SELECT user_id FROM members WHERE conversation_id = ?", conversationId)
    .map((r) => str(r.user_id));
}

export function contactIds(db: Db, userId: string): string[] {
  return db.all(
    `SELECT DISTINCT o.user_id FROM members m JOIN members o ON o.conversation_id = m.conversation_id
     WHERE m.user_id = ? AND o.user_id != ?`,
    userId,
    userId,
  ).map((r) => str(r.user_id));
}

export function sharesConversation(db: Db, a: string, b: string): boolean {
  return !!db.get(
    `SELECT 1 AS x FROM members m JOIN members o ON o.conversation_id = m.conversation_id
     WHERE m.user_id = ? AND o.user_id = ? LIMIT 1`,
    a,
    b,
  );
}

const LIST_COLUMNS = `c.*, ${MEMBER_COLUMNS_AS_M},
  (SELECT x.id FROM messages x
     WHERE x.conversation_id = c.id AND x.in_main = 1
       AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = m.user_id AND h.message_id = x.id)
     ORDER BY x.seq DESC LIMIT 1) AS last_message_id,
  (SELECT count(*) FROM messages x
     WHERE x.conversation_id = c.id AND x.seq > m.read_seq AND x.kind != 'system' AND x.in_main = 1
       AND x.deleted_at IS NULL AND x.sender_id IS NOT m.user_id
       AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = m.user_id AND h.message_id = x.id)
  ) AS unread_count,
  (SELECT o.user_id FROM members o
     WHERE c.type = 'direct' AND o.conversation_id = c.id AND o.user_id != m.user_id) AS peer_id`;

/** Live messages after `readSeq` that mention `userId` by name or everyone (not their own). */
function unreadMentions(db: Db, userId: string, conversationId: string, readSeq: number): number {
  const r = db.get(
    `SELECT (SELECT count(*) FROM message_mentions mm
             WHERE mm.user_id = ?1 AND mm.conversation_id = ?2 AND mm.seq > ?3
               AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                               WHERE h.user_id = ?1 AND h.message_id = mm.message_id))
          + (SELECT count(*) FROM messages x
             WHERE x.conversation_id = ?2 AND x.mentions_all = 1 AND x.seq > ?3
               AND x.sender_id IS NOT ?1
               AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                               WHERE h.user_id = ?1 AND h.message_id = x.id)
               -- A message that also names the user counts once.
               AND NOT EXISTS (SELECT 1 FROM message_mentions mm
                               WHERE mm.user_id = ?1 AND mm.conversation_id = ?2 AND mm.seq = x.seq)
            ) AS n`,
    userId,
    conversationId,
    readSeq,
  );
  return num(r!.n);
}

function toListItem(db: Db, r: Row): ConversationListItem {
  const lastId = strOrNull(r.last_message_id);
  const last = lastId ? db.get("SELECT * FROM messages WHERE id = ?", lastId) : undefined;
  return {
    conversation: toConversation(r),
    member: toMember(r, "m_"),
    lastMessage: last ? toMessage(last) : null,
    unreadCount: num(r.unread_count),
    unreadMentionCount: unreadMentions(db, str(r.m_user_id), str(r.id), num(r.m_read_seq)),
    // A peer who left (an erased account) is still named by the pair's key.
    peerId: strOrNull(r.peer_id) ?? directPeer(strOrNull(r.direct_key), str(r.m_user_id)),
  };
}

export function listConversations(
  db: Db,
  userId: string,
  options: { archived: boolean; limit: number; cursor?: ListCursor },
): ConversationListItem[] {
  const cursor = options.cursor ?? { updatedAt: "\u{10FFFF}", id: "" };
  return db.all(
    `SELECT ${LIST_COLUMNS}
     FROM members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ? AND m.archived = ? AND c.deleted_at IS NULL
       AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))
     ORDER BY c.updated_at DESC, c.id DESC
     LIMIT ?`,
    userId,
    options.archived ? 1 : 0,
    cursor.updatedAt,
    cursor.updatedAt,
    options.cursor ? cursor.id : "\u{10FFFF}",
    options.limit,
  ).map((r) => toListItem(db, r));
}

export function conversationItem(
  db: Db,
  userId: string,
  conversationId: string,
): ConversationListItem | null {
  const r = db.get(
    `SELECT ${LIST_COLUMNS}
     FROM members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ? AND m.conversation_id = ? AND c.deleted_at IS NULL`,
    userId,
    conversationId,
  );
  return r ? toListItem(db, r) : null;
}

export function setMemberState(
  db: Db,
  conversationId: string,
  userId: string,
  patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
): Member | null {
  const sets: string[] = [];
  const params: Array<string | number | null> = [];
  if (patch.muted !== undefined) sets.push("muted = ?"), params.push(patch.muted ? 1 : 0);
  if (patch.mutedUntil !== undefined) sets.push("muted_until = ?"), params.push(patch.mutedUntil);
  if (patch.archived !== undefined) sets.push("archived = ?"), params.push(patch.archived ? 1 : 0);
  if (sets.length > 0) {
    db.run(
      `UPDATE members SET ${sets.join(", ")} WHERE conversation_id = ? AND user_id = ?`,
      ...params,
      conversationId,
      userId,
    );
  }
  return getMember(db, conversationId, userId);
}

/** The conversation writes, run on the writer thread (see `_writes.ts`). */
export const conversationWrites = { createConversation, setMemberState };

/** The SQLite {@link ConversationStore}: reads on the main connection, writes on the writer thread. */
export function sqliteConversations(db: Db, writer: Writer): ConversationStore {
  return {
    ...bindReads(db, {
      getConversation,
      getMember,
      getMembers,
      listMembers,
      memberIds,
      contactIds,
      sharesConversation,
      listConversations,
      conversationItem,
    }),
    ...bindWrites(writer, conversationWrites),
  };
}
