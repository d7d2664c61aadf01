import {
  type Conversation,
  DEFAULT_SETTINGS,
  type EventRecord,
  type GlobalRole,
  type LastSeenPrivacy,
  type Member,
  type MemberRole,
  type MessageKind,
  type MessageRecord,
  type Presence,
  type ReachPrivacy,
  type Session,
  type User,
} from "../../domain/types.ts";
import type { UserKeyRecord } from "../store.ts";
import { bytes, num, type Row, str, strOrNull } from "./_db.ts";

export function toUser(r: Row): User {
  return {
    id: str(r.id),
    username: str(r.username),
    displayName: str(r.display_name),
    role: str(r.role) as GlobalRole,
    avatarMediaId: strOrNull(r.avatar_media_id),
    statusText: strOrNull(r.status_text),
    presence: str(r.presence) as Presence,
    privacy: {
      lastSeen: str(r.privacy_last_seen) as LastSeenPrivacy,
      readReceipts: num(r.privacy_read_receipts) === 1,
      directMessages: str(r.privacy_direct_messages) as ReachPrivacy,
      groupAdds: str(r.privacy_group_adds) as ReachPrivacy,
    },
    lastSeenAt: strOrNull(r.last_seen_at),
    createdAt: str(r.created_at),
    deletedAt: strOrNull(r.deleted_at),
    suspension: r.suspended_at
      ? {
        at: str(r.suspended_at),
        until: strOrNull(r.suspended_until),
        reason: r.suspension_reason === null
          ? null
          : { keyId: str(r.suspension_reason_key), blob: bytes(r.suspension_reason) },
      }
      : null,
  };
}

export function toSession(r: Row): Session {
  return {
    id: str(r.id),
    userId: str(r.user_id),
    deviceName: strOrNull(r.device_name),
    ip: strOrNull(r.ip),
    createdAt: str(r.created_at),
    lastSeenAt: str(r.last_seen_at),
    expiresAt: str(r.expires_at),
    revokedAt: strOrNull(r.revoked_at),
  };
}

export function toUserKey(r: Row): UserKeyRecord {
  return {
    id: str(r.id),
    userId: str(r.user_id),
    wrapped: bytes(r.wrapped),
    kekId: str(r.kek_id),
    createdAt: str(r.created_at),
  };
}

export function toConversation(r: Row): Conversation {
  return {
    id: str(r.id),
    type: str(r.type) as Conversation["type"],
    name: strOrNull(r.name),
    description: strOrNull(r.description),
    avatarMediaId: strOrNull(r.avatar_media_id),
    // Settings added since a row was written read as their defaults.
    settings: { ...DEFAULT_SETTINGS, ...JSON.parse(str(r.settings)) },
    createdBy: strOrNull(r.created_by),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    lastSeq: num(r.last_seq),
    memberCount: num(r.member_count),
    retentionDays: r.retention_days === null ? null : num(r.retention_days),
    deletedAt: strOrNull(r.deleted_at),
  };
}

/** Maps a member row; `prefix` selects aliased columns in joins (e.g. `m_`). */
export function toMember(r: Row, prefix = ""): Member {
  return {
    conversationId: str(r[`${prefix}conversation_id`]),
    userId: str(r[`${prefix}user_id`]),
    role: str(r[`${prefix}role`]) as MemberRole,
    joinedAt: str(r[`${prefix}joined_at`]),
    readSeq: num(r[`${prefix}read_seq`]),
    deliveredSeq: num(r[`${prefix}delivered_seq`]),
    muted: num(r[`${prefix}muted`]) === 1,
    mutedUntil: strOrNull(r[`${prefix}muted_until`]),
    archived: num(r[`${prefix}archived`]) === 1,
    silencedUntil: strOrNull(r[`${prefix}silenced_until`]),
  };
}

/** Maps an `events` row (also used by the SQLite → MongoDB migration). */
export function toEvent(r: Row): EventRecord {
  return {
    conversationId: str(r.conversation_id),
    seq: num(r.seq),
    event: str(r.event) as EventRecord["event"],
    actorId: strOrNull(r.actor_id),
    messageId: strOrNull(r.message_id),
    data: JSON.parse(str(r.data)),
    createdAt: str(r.created_at),
  };
}

export function toMessage(r: Row): MessageRecord {
  return {
    id: str(r.id),
    conversationId: str(r.conversation_id),
    seq: num(r.seq),
    senderId: strOrNull(r.sender_id),
    clientMsgId: strOrNull(r.client_msg_id),
    kind: str(r.kind) as MessageKind,
    body: r.body === null ? null : { keyId: str(r.body_key), blob: bytes(r.body) },
    mediaIds: JSON.parse(str(r.media_ids)),
    replyTo: strOrNull(r.reply_to),
    mentions: JSON.parse(str(r.mentions)),
    system: r.system === null ? null : JSON.parse(str(r.system)),
    editedAt: strOrNull(r.edited_at),
    deletedAt: strOrNull(r.deleted_at),
    createdAt: str(r.created_at),
    ...(r.expires_at ? { expiresAt: str(r.expires_at) } : {}),
    ...(r.forwarded ? { forwarded: JSON.parse(str(r.forwarded)) } : {}),
    ...(r.mentions_all ? { mentionsAll: true } : {}),
    ...(r.poll ? { poll: JSON.parse(str(r.poll)) } : {}),
    ...(r.thread_id ? { threadId: str(r.thread_id) } : {}),
    ...(r.thread_id && num(r.in_main) === 1 ? { alsoInConversation: true } : {}),
  };
}

/** Column list for `members` aliased with a `m_` prefix, for joins. */
export const MEMBER_COLUMNS_AS_M =
  "m.conversation_id AS m_conversation_id, m.user_id AS m_user_id, m.role AS m_role, " +
  "m.joined_at AS m_joined_at, m.read_seq AS m_read_seq, m.delivered_seq AS m_delivered_seq, " +
  "m.muted AS m_muted, m.muted_until AS m_muted_until, m.archived AS m_archived, " +
  "m.silenced_until AS m_silenced_until";
