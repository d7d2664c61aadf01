import { forbidden, notFound } from "../../src/domain/errors.ts";
import {
  type Conversation,
  DEFAULT_SETTINGS,
  type Member,
  type MemberRole,
  type Session,
  type User,
} from "../../src/domain/types.ts";
import type { MediaRecord } from "../../src/domain/media.ts";
import { newId } from "../../src/ids.ts";
import type { Change, NewConversation, Store } from "../../src/store/store.ts";

let n = 0;
const iso = (offsetMs = 0) => new Date(Date.UTC(2026, 0, 1) + offsetMs).toISOString();

/** A distinct timestamp per call, increasing. */
export function tick(): string {
  return iso(++n * 1000);
}

export async function addUser(store: Store, username = `u${newId().slice(-10)}`): Promise<User> {
  const created = await store.accounts.createUser({
    id: newId(),
    username,
    displayName: username.toUpperCase(),
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    role: "user",
    createdAt: tick(),
  });
  if (created.status !== "created") throw new Error(`username ${username} is taken`);
  return created.user;
}

export function session(userId: string, overrides: Partial<Session> = {}): Session {
  const at = tick();
  return {
    id: newId(),
    userId,
    deviceName: "phone",
    ip: "127.0.0.1",
    createdAt: at,
    lastSeenAt: at,
    expiresAt: "2999-01-01T00:00:00.000Z",
    revokedAt: null,
    ...overrides,
  };
}

export function member(
  conversationId: string,
  userId: string,
  role: MemberRole,
  at = tick(),
): Member {
  return {
    conversationId,
    userId,
    role,
    joinedAt: at,
    readSeq: 0,
    deliveredSeq: 0,
    muted: false,
    mutedUntil: null,
    archived: false,
    silencedUntil: null,
  };
}

function conversation(
  type: "direct" | "group",
  createdBy: string,
  memberCount: number,
): Conversation {
  const at = tick();
  return {
    id: newId(),
    type,
    name: type === "group" ? "Team" : null,
    description: null,
    avatarMediaId: null,
    settings: DEFAULT_SETTINGS,
    createdBy,
    createdAt: at,
    updatedAt: at,
    lastSeq: 1,
    memberCount,
    retentionDays: null,
    deletedAt: null,
  };
}

export function directInput(a: string, b: string): NewConversation {
  const c = conversation("direct", a, 2);
  return {
    conversation: c,
    members: [member(c.id, a, "member", c.createdAt), member(c.id, b, "member", c.createdAt)],
    directKey: [a, b].sort().join(":"),
    event: { event: "conversation.created", actorId: a, data: {} },
    systemMessageId: newId(),
    system: { action: "conversation.created", actorId: a, userIds: [a, b] },
  };
}

export function groupInput(owner: string, others: string[]): NewConversation {
  const c = conversation("group", owner, others.length + 1);
  return {
    conversation: c,
    members: [
      member(c.id, owner, "owner", c.createdAt),
      ...others.map((u, i) =>
        member(c.id, u, "member", new Date(Date.parse(c.createdAt) + i + 1).toISOString())
      ),
    ],
    event: { event: "conversation.created", actorId: owner, data: {} },
    systemMessageId: newId(),
    system: { action: "conversation.created", actorId: owner, userIds: [owner, ...others] },
  };
}

/** A text message commit with a stand-in ciphertext. */
export function textChange(
  conversationId: string,
  senderId: string,
  clientMsgId = newId(),
  extra: Partial<Change> = {},
): Change {
  const id = newId();
  const at = tick();
  return {
    conversationId,
    event: "message.created",
    actorId: senderId,
    messageId: id,
    at,
    idempotency: { senderId, clientMsgId },
    expect: [{ kind: "member", userId: senderId, error: notFound("not a member") }],
    mutations: [{
      op: "insertMessage",
      message: {
        id,
        conversationId,
        senderId,
        clientMsgId,
        kind: "text",
        body: { keyId: "k1", blob: new TextEncoder().encode(`sealed:${clientMsgId}`) },
        mediaIds: [],
        replyTo: null,
        mentions: [],
        system: null,
        editedAt: null,
        deletedAt: null,
        createdAt: at,
      },
    }],
    ...extra,
  };
}

export function reactionChange(
  conversationId: string,
  messageId: string,
  userId: string,
  emoji: string,
  op: "addReaction" | "removeReaction" = "addReaction",
): Change {
  return {
    conversationId,
    event: "reaction.updated",
    actorId: userId,
    messageId,
    at: tick(),
    expect: [{ kind: "message", messageId, live: true, error: notFound("no message") }],
    mutations: op === "addReaction"
      ? [{ op, messageId, userId, emoji, at: tick() }]
      : [{ op, messageId, userId, emoji }],
  };
}

export const FORBIDDEN = forbidden("expectation failed");

/** A media record (processing, uploaded by `ownerId`), with `overrides`. */
export function mediaRecord(ownerId: string, overrides: Partial<MediaRecord> = {}): MediaRecord {
  const at = tick();
  return {
    id: newId(),
    ownerId,
    kind: "image",
    status: "processing",
    mime: "image/jpeg",
    size: 1234,
    filename: "photo.jpg",
    keyId: "key-1",
    width: null,
    height: null,
    durationMs: null,
    pageCount: null,
    waveform: null,
    thumbnail: null,
    animated: false,
    failureReason: null,
    attempts: 0,
    leaseOwner: null,
    leaseUntil: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
