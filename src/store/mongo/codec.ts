import { Binary } from "mongodb";
import {
  type Conversation,
  DEFAULT_SETTINGS,
  type EventRecord,
  type Member,
  type MessageRecord,
  type PollSettings,
  type SealedText,
  type Session,
  type Suspension,
  type SystemInfo,
  type ThreadSummary,
  type User,
} from "../../domain/types.ts";
import { foldText } from "../../domain/words.ts";
import type { AuditEntry, UserKeyRecord } from "../store.ts";
import {
  type AuditDoc,
  type ConversationDoc,
  type EventDoc,
  eventKey,
  type MemberDoc,
  memberKey,
  type MessageDoc,
  type SessionDoc,
  type ThreadDoc,
  type UserDoc,
  type UserKeyDoc,
} from "./schema.ts";

// Domain records to documents and back. Builders copy exactly the stored fields, never extra
// properties a caller's object may carry; readers return plain records (no `_id`, bytes as a plain
// Uint8Array), equal to what the SQLite adapter returns for the same data.

/** Folds a display name for prefix search (the same folding as the SQLite adapter). */
export function foldName(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** A plain `Uint8Array` copy of a stored Binary (never a view into a driver buffer). */
export function bytes(value: Binary | Uint8Array): Uint8Array {
  return new Uint8Array(value instanceof Binary ? value.value() : value);
}

export function userDoc(u: User, passwordHash: string): UserDoc {
  return {
    _id: u.id,
    username: u.username,
    displayName: u.displayName,
    displayNameFold: foldName(u.displayName),
    passwordHash,
    role: u.role,
    avatarMediaId: u.avatarMediaId,
    statusText: u.statusText,
    presence: u.presence,
    privacyLastSeen: u.privacy.lastSeen,
    privacyReadReceipts: u.privacy.readReceipts,
    privacyDirectMessages: u.privacy.directMessages,
    privacyGroupAdds: u.privacy.groupAdds,
    lastSeenAt: u.lastSeenAt,
    createdAt: u.createdAt,
    deletedAt: u.deletedAt,
    suspension: suspensionDoc(u.suspension),
  };
}

/** A suspension as stored (its reason's bytes in a Binary), or null when there is none. */
export function suspensionDoc(s: Suspension | null): UserDoc["suspension"] {
  return s ? { at: s.at, until: s.until, reason: s.reason ? sealedDoc(s.reason) : null } : null;
}

export function toUser(d: UserDoc): User {
  return {
    id: d._id,
    username: d.username,
    displayName: d.displayName,
    role: d.role,
    avatarMediaId: d.avatarMediaId,
    statusText: d.statusText,
    presence: d.presence,
    // Documents written before a setting existed read as its default (receipts on, everyone).
    privacy: {
      lastSeen: d.privacyLastSeen,
      readReceipts: d.privacyReadReceipts !== false,
      directMessages: d.privacyDirectMessages ?? "everyone",
      groupAdds: d.privacyGroupAdds ?? "everyone",
    },
    lastSeenAt: d.lastSeenAt,
    createdAt: d.createdAt,
    deletedAt: d.deletedAt,
    suspension: d.suspension
      ? {
        at: d.suspension.at,
        until: d.suspension.until,
        reason: sealedOrNull(d.suspension.reason),
      }
      : null,
  };
}

export function sessionDoc(s: Session): SessionDoc {
  return {
    _id: s.id,
    userId: s.userId,
    deviceName: s.deviceName,
    ip: s.ip,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    expiresAt: s.expiresAt,
    revokedAt: s.revokedAt,
  };
}

export function toSession(d: SessionDoc): Session {
  return {
    id: d._id,
    userId: d.userId,
    deviceName: d.deviceName,
    ip: d.ip,
    createdAt: d.createdAt,
    lastSeenAt: d.lastSeenAt,
    expiresAt: d.expiresAt,
    revokedAt: d.revokedAt,
  };
}

export function userKeyDoc(k: UserKeyRecord, retiredAt: string | null): UserKeyDoc {
  const doc: UserKeyDoc = {
    _id: k.id,
    userId: k.userId,
    wrapped: new Binary(k.wrapped),
    kekId: k.kekId,
    createdAt: k.createdAt,
    retiredAt,
  };
  if (retiredAt === null) doc.currentOf = k.userId;
  return doc;
}

export function toUserKey(d: UserKeyDoc): UserKeyRecord {
  return {
    id: d._id,
    userId: d.userId,
    wrapped: bytes(d.wrapped),
    kekId: d.kekId,
    createdAt: d.createdAt,
  };
}

export function conversationDoc(c: Conversation, directKey: string | null): ConversationDoc {
  return {
    _id: c.id,
    type: c.type,
    directKey,
    name: c.name,
    description: c.description,
    avatarMediaId: c.avatarMediaId,
    settings: c.settings,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    lastSeq: c.lastSeq,
    memberCount: c.memberCount,
    retentionDays: c.retentionDays,
    deletedAt: c.deletedAt,
    // Discovery's copies: kept with the name and settings by every write of them.
    public: c.settings.public === true,
    nameFold: c.name === null ? null : foldText(c.name),
  };
}

export function toConversation(d: ConversationDoc): Conversation {
  return {
    id: d._id,
    type: d.type,
    name: d.name,
    description: d.description,
    avatarMediaId: d.avatarMediaId,
    // Settings added since a document was written read as their defaults.
    settings: { ...DEFAULT_SETTINGS, ...d.settings },
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    lastSeq: d.lastSeq,
    memberCount: d.memberCount,
    retentionDays: d.retentionDays,
    deletedAt: d.deletedAt,
  };
}

export function memberDoc(m: Member): MemberDoc {
  return {
    _id: memberKey(m.conversationId, m.userId),
    conversationId: m.conversationId,
    userId: m.userId,
    role: m.role,
    joinedAt: m.joinedAt,
    readSeq: m.readSeq,
    deliveredSeq: m.deliveredSeq,
    muted: m.muted,
    mutedUntil: m.mutedUntil,
    archived: m.archived,
    silencedUntil: m.silencedUntil,
  };
}

export function toMember(d: MemberDoc): Member {
  return {
    conversationId: d.conversationId,
    userId: d.userId,
    role: d.role,
    joinedAt: d.joinedAt,
    readSeq: d.readSeq,
    deliveredSeq: d.deliveredSeq,
    muted: d.muted,
    mutedUntil: d.mutedUntil,
    archived: d.archived,
    silencedUntil: d.silencedUntil ?? null,
  };
}

export function eventDoc(e: EventRecord, seqAt: number): EventDoc {
  return {
    _id: eventKey(e.conversationId, e.seq),
    conversationId: e.conversationId,
    seq: e.seq,
    event: e.event,
    actorId: e.actorId,
    messageId: e.messageId,
    data: e.data,
    createdAt: e.createdAt,
    seqAt,
  };
}

export function toEvent(d: EventDoc): EventRecord {
  return {
    conversationId: d.conversationId,
    seq: d.seq,
    event: d.event,
    actorId: d.actorId,
    messageId: d.messageId,
    data: d.data,
    createdAt: d.createdAt,
  };
}

export function sealedDoc(body: SealedText): { keyId: string; blob: Binary } {
  return { keyId: body.keyId, blob: new Binary(body.blob) };
}

/** A stored sealed text as the port's `SealedText` (bytes as a plain Uint8Array), null as null. */
export function sealedOrNull(d: { keyId: string; blob: Binary } | null): SealedText | null {
  return d ? { keyId: d.keyId, blob: bytes(d.blob) } : null;
}

/** A poll's settings, exactly their fields (`closesAt` and `closed` only when present), both ways. */
function pollSettings(p: PollSettings): PollSettings {
  return {
    multiple: p.multiple,
    anonymous: p.anonymous,
    ...(p.closesAt !== undefined ? { closesAt: p.closesAt } : {}),
    ...(p.closed ? { closed: true } : {}),
  };
}

export function messageDoc(m: MessageRecord): MessageDoc {
  return {
    _id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    kind: m.kind,
    body: m.body ? sealedDoc(m.body) : null,
    mediaIds: m.mediaIds,
    replyTo: m.replyTo,
    mentions: m.mentions,
    system: m.system,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
    createdAt: m.createdAt,
    ...(m.expiresAt ? { expiresAt: m.expiresAt } : {}),
    ...(m.forwarded ? { forwarded: m.forwarded } : {}),
    ...(m.mentionsAll ? { mentionsAll: true } : {}),
    ...(m.poll ? { poll: pollSettings(m.poll) } : {}),
    ...(m.threadId ? { threadId: m.threadId } : {}),
    // Only a reply kept out of the main history says so; every other message is in it.
    ...(m.threadId && !m.alsoInConversation ? { inMain: false as const } : {}),
  };
}

/** The system message recorded at an event's seq (who did what to whom). */
export function systemMessageDoc(m: {
  id: string;
  conversationId: string;
  seq: number;
  actorId: string | null;
  system: SystemInfo;
  at: string;
}): MessageDoc {
  return messageDoc({
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.actorId,
    clientMsgId: null,
    kind: "system",
    body: null,
    mediaIds: [],
    replyTo: null,
    mentions: [],
    system: m.system,
    editedAt: null,
    deletedAt: null,
    createdAt: m.at,
  });
}

export function toMessage(d: MessageDoc): MessageRecord {
  return {
    id: d._id,
    conversationId: d.conversationId,
    seq: d.seq,
    senderId: d.senderId,
    clientMsgId: d.clientMsgId,
    kind: d.kind,
    body: d.body ? { keyId: d.body.keyId, blob: bytes(d.body.blob) } : null,
    mediaIds: d.mediaIds,
    replyTo: d.replyTo,
    mentions: d.mentions,
    system: d.system,
    editedAt: d.editedAt,
    deletedAt: d.deletedAt,
    createdAt: d.createdAt,
    ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
    ...(d.forwarded ? { forwarded: d.forwarded } : {}),
    ...(d.mentionsAll ? { mentionsAll: true } : {}),
    ...(d.poll ? { poll: pollSettings(d.poll) } : {}),
    ...(d.threadId ? { threadId: d.threadId } : {}),
    ...(d.threadId && d.inMain !== false ? { alsoInConversation: true } : {}),
  };
}

/** A thread's summary as the port's `ThreadSummary` (`_id` is the root id). */
export function toThreadSummary(d: ThreadDoc): ThreadSummary {
  return {
    rootId: d._id,
    conversationId: d.conversationId,
    replyCount: d.replyCount,
    lastReplyAt: d.lastReplyAt,
    lastReplySeq: d.lastReplySeq,
    participantIds: d.participantIds,
  };
}

export function auditDoc(e: AuditEntry): AuditDoc {
  return {
    _id: e.id,
    at: e.at,
    action: e.action,
    actorId: e.actorId,
    targetId: e.targetId,
    ip: e.ip,
    userAgent: e.userAgent,
    details: e.details,
  };
}

export function toAudit(d: AuditDoc): AuditEntry {
  return {
    id: d._id,
    at: d.at,
    action: d.action,
    actorId: d.actorId,
    targetId: d.targetId,
    ip: d.ip,
    userAgent: d.userAgent,
    details: d.details,
  };
}
