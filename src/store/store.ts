import type { AppError } from "../domain/errors.ts";
import type { MediaPatch, MediaRecord, MediaStatus } from "../domain/media.ts";
import type {
  Conversation,
  DurableEventName,
  EventRecord,
  GlobalRole,
  GroupSettings,
  LastSeenPrivacy,
  Member,
  MemberRole,
  MessageRecord,
  Presence,
  ReactionSummary,
  SealedText,
  Session,
  SystemInfo,
  User,
} from "../domain/types.ts";
import type { EngagementStore, PrivacyStore } from "./privacy.ts";

/** Fields of a new account. `username` is already folded and validated. */
export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  role: GlobalRole;
  createdAt: string;
}

/** A partial update of a profile; `undefined` leaves a field alone, `null` clears it. */
export interface UserPatch {
  username?: string;
  displayName?: string;
  avatarMediaId?: string | null;
  statusText?: string | null;
  presence?: Presence;
  privacyLastSeen?: LastSeenPrivacy;
  role?: GlobalRole;
  lastSeenAt?: string;
}

/** What became of a presented refresh token. */
export type RefreshOutcome =
  | { status: "rotated"; session: Session }
  | { status: "reused"; session: Session }
  | { status: "invalid" };

/** A per-user data key, stored only wrapped by a key-encryption key of the keyring. */
export interface UserKeyRecord {
  id: string;
  userId: string;
  wrapped: Uint8Array;
  kekId: string;
  createdAt: string;
}

/** One entry of the audit log: who did what to what, when and from where. Never message content. */
export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actorId: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/** One row of a user's conversation list, with their membership and the latest message. */
export interface ConversationListItem {
  conversation: Conversation;
  member: Member;
  lastMessage: MessageRecord | null;
  unreadCount: number;
  /** For direct conversations: the other participant. */
  peerId: string | null;
}

/** Position in a member list: (joinedAt, userId) of the last member seen. */
export interface MemberCursor {
  joinedAt: string;
  userId: string;
}

/** Cursor position in a conversation list: (updatedAt, id) of the last row seen. */
export interface ListCursor {
  updatedAt: string;
  id: string;
}

/**
 * A condition checked inside the commit, atomically with the write. When it does not hold, the commit
 * is abandoned and `error` is thrown, so a service never acts on a stale read.
 */
export type Expectation =
  | { kind: "member"; userId: string; roles?: MemberRole[]; error: AppError }
  | { kind: "message"; messageId: string; senderId?: string; live?: boolean; error: AppError }
  /** Checked after the mutations: the conversation has at most `max` members. */
  | { kind: "memberLimit"; max: number; error: AppError };

/** One state change made in the same commit as its event. */
export type Mutation =
  | { op: "insertMessage"; message: Omit<MessageRecord, "seq"> }
  | { op: "editMessage"; messageId: string; body: SealedText; editedAt: string }
  | { op: "eraseMessage"; messageId: string; deletedAt: string }
  | { op: "addReaction"; messageId: string; userId: string; emoji: string; at: string }
  | { op: "removeReaction"; messageId: string; userId: string; emoji: string }
  | { op: "addMembers"; members: Member[] }
  | { op: "removeMember"; userId: string }
  | { op: "setRole"; userId: string; role: MemberRole }
  | { op: "updateConversation"; patch: ConversationPatch }
  | { op: "deleteConversation"; at: string }
  /** Moves the user's read and delivered markers up to this event (a sender has read what they sent). */
  | { op: "readUpTo"; userId: string };

/** Group info that may change. */
export interface ConversationPatch {
  name?: string;
  description?: string | null;
  avatarMediaId?: string | null;
  settings?: GroupSettings;
  retentionDays?: number | null;
}

/**
 * One durable change to a conversation: its mutations and event commit together, and the event takes
 * the next `seq`. With `idempotency`, a second commit with the same (sender, clientMsgId) changes
 * nothing and returns the first message.
 */
export interface Change {
  conversationId: string;
  event: DurableEventName;
  actorId: string | null;
  messageId?: string;
  data?: Record<string, unknown>;
  mutations: Mutation[];
  expect?: Expectation[];
  idempotency?: { senderId: string; clientMsgId: string };
  /** Records a system message with id `messageId` at the event's seq (who did what to whom). */
  system?: SystemInfo;
  at: string;
}

/** The result of {@link Store.commit}. */
export type CommitResult =
  | { status: "committed"; event: EventRecord; message: MessageRecord | null }
  | { status: "duplicate"; message: MessageRecord }
  /** Nothing changed (e.g. a reaction that was already there), so no event was written. */
  | { status: "unchanged" };

/** A new conversation with its first members and first event. */
export interface NewConversation {
  conversation: Conversation;
  members: Member[];
  /** For direct conversations: the unique key of the pair, so there is only ever one. */
  directKey?: string;
  event: { event: DurableEventName; actorId: string; data: Record<string, unknown> };
  systemMessageId: string;
}

/**
 * The other user named by a direct conversation's pair key (`a:b`, the two ids sorted), or null
 * without a key. Adapters use it so a direct conversation still names a peer who left (an erased
 * account).
 */
export function directPeer(directKey: string | null, userId: string): string | null {
  if (!directKey) return null;
  const [a, b] = directKey.split(":");
  return a === userId ? b : a;
}

/** A page of history, in ascending seq order. */
export interface MessagePage {
  messages: MessageRecord[];
  hasMore: boolean;
}

/** A page of the event log with the messages its events point at. */
export interface EventPage {
  events: EventRecord[];
  messages: Map<string, MessageRecord>;
  hasMore: boolean;
}

/** When each member's delivered and read markers first reached a position. */
export interface ReceiptRow {
  userId: string;
  deliveredAt: string | null;
  readAt: string | null;
}

/** A claim on a media item's processing: who holds it, until when, checked at `now`. */
export interface MediaClaim {
  owner: string;
  until: string;
  now: string;
}

/**
 * The durable state of Parley: users, sessions, conversations, members, the per-conversation event
 * log and messages, markers, data keys and media records. Every adapter passes `tests/store/store_contract.ts`.
 *
 * Guarantees every adapter keeps:
 * - `commit` assigns each conversation's events gap-free, strictly increasing seqs in commit order
 *   (an adapter without transactions may leave a gap, never a duplicate);
 * - (sender, clientMsgId) is unique: a repeated send returns the first message;
 * - there is at most one direct conversation per pair of users;
 * - usernames are unique (they are stored folded to lower case);
 * - a message's media references are added by `insertMessage` and dropped by `eraseMessage` in the
 *   same commit, so `canSeeMedia` and `isMediaReferenced` never see a half-applied change;
 * - an erased user's data keys are gone for good (see {@link PrivacyStore.beginErasure}).
 */
export interface Store extends PrivacyStore, EngagementStore {
  readonly kind: "sqlite" | "mongo";
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(user: NewUser): Promise<User>;
  getUser(id: string): Promise<User | null>;
  getUsers(ids: string[]): Promise<User[]>;
  getUserByUsername(username: string): Promise<User | null>;
  getPasswordHash(userId: string): Promise<string | null>;
  setPasswordHash(userId: string, hash: string): Promise<void>;
  /** Users whose username or display name starts with `prefix` (folded), by username. */
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }): Promise<User[]>;
  updateUser(id: string, patch: UserPatch): Promise<User>;

  createSession(session: Session, refreshHash: string): Promise<void>;
  getSession(id: string): Promise<Session | null>;
  /** Live (not revoked, not expired) sessions of a user, newest first. */
  listSessions(userId: string, now: string): Promise<Session[]>;
  touchSession(id: string, at: string): Promise<void>;
  /** Revokes one session; false when it did not exist or was already revoked. */
  revokeSession(id: string, at: string): Promise<boolean>;
  /** Revokes every live session of a user (but `except`) and returns their ids. */
  revokeUserSessions(userId: string, at: string, options?: { except?: string }): Promise<string[]>;
  /**
   * Exchanges a refresh token (by hash) for a new one in one atomic step, sliding the session's expiry
   * to `expiresAt`. A token that was already used revokes its whole session and reports `reused`.
   */
  rotateRefreshToken(
    oldHash: string,
    newHash: string,
    now: string,
    expiresAt: string,
  ): Promise<RefreshOutcome>;

  /** The user's current data key, creating it from `make` if there is none (race-free). */
  ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>): Promise<UserKeyRecord>;
  getUserKey(keyId: string): Promise<UserKeyRecord | null>;
  /** Data keys still wrapped by a key-encryption key other than `kekId` (for rotation). */
  userKeysNotWrappedBy(kekId: string, limit: number): Promise<UserKeyRecord[]>;
  rewrapUserKey(keyId: string, wrapped: Uint8Array, kekId: string): Promise<void>;

  createConversation(
    input: NewConversation,
  ): Promise<{ conversation: Conversation; created: boolean }>;
  getConversation(id: string): Promise<Conversation | null>;
  getMember(conversationId: string, userId: string): Promise<Member | null>;
  /** Members ordered by join time, then user id, after the cursor position. */
  listMembers(
    conversationId: string,
    options: { limit: number; after?: MemberCursor },
  ): Promise<Member[]>;
  /** The ids of every member of a conversation. */
  memberIds(conversationId: string): Promise<string[]>;
  /**
   * The conversations a user is a member of, with their heads, for the socket's `ready`. A head is a
   * seq at or below which every event is readable through `listEvents` (with transactions, the last
   * seq; without, the last one with nothing still committing below it).
   */
  conversationHeads(userId: string): Promise<Array<{ id: string; lastSeq: number }>>;
  /** Users who share at least one conversation with `userId` (not including them). */
  contactIds(userId: string): Promise<string[]>;
  sharesConversation(a: string, b: string): Promise<boolean>;
  listConversations(
    userId: string,
    options: { archived: boolean; limit: number; cursor?: ListCursor },
  ): Promise<ConversationListItem[]>;
  /** One conversation as it appears in `userId`'s list; null unless they are a member. */
  conversationItem(userId: string, conversationId: string): Promise<ConversationListItem | null>;
  setMemberState(
    conversationId: string,
    userId: string,
    patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ): Promise<Member | null>;

  /** Applies one durable change atomically with its event (see {@link Change}). */
  commit(change: Change): Promise<CommitResult>;

  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | null>;
  getMessageByClientId(senderId: string, clientMsgId: string): Promise<MessageRecord | null>;
  /** History as `viewerId` sees it (messages they deleted for themselves left out). */
  listMessages(
    conversationId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ): Promise<MessagePage>;
  /**
   * The durable events after `after`, in seq order. Never returns an event while a lower seq may
   * still be committing (an adapter without transactions stops before such a hole and reports no
   * more pages), so a reader that advances past what it got never skips an event for good.
   */
  listEvents(conversationId: string, options: { after: number; limit: number }): Promise<EventPage>;
  reactions(messageIds: string[]): Promise<Map<string, ReactionSummary>>;
  /** Which of `messageIds` the user deleted for themselves. */
  hiddenMessageIds(userId: string, messageIds: string[]): Promise<Set<string>>;
  /** Hides a message from one user's history only (delete for me). */
  hideMessage(userId: string, message: MessageRecord): Promise<void>;
  /** Moves a marker forward; returns the new position, or null when `seq` was not past it. */
  advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ): Promise<number | null>;
  receipts(conversationId: string, seq: number): Promise<ReceiptRow[]>;

  createMedia(media: MediaRecord): Promise<void>;
  getMedia(id: string): Promise<MediaRecord | null>;
  /** The media with these ids that exist, in no particular order. */
  getMediaMany(ids: string[]): Promise<MediaRecord[]>;
  /**
   * Applies `patch`; with `whenStatus`, only while the item is still in that status. Returns the
   * updated record, or null when it is gone or the condition failed.
   */
  updateMedia(
    id: string,
    patch: MediaPatch,
    options?: { whenStatus?: MediaStatus },
  ): Promise<MediaRecord | null>;
  /**
   * Atomically takes the processing claim of an item still `processing` whose claim is free, expired
   * at `claim.now`, or already held by `claim.owner`, and counts the attempt. Null when another
   * holder's claim is live or the item is no longer processing: at most one instance works on it.
   */
  claimMedia(id: string, claim: MediaClaim): Promise<MediaRecord | null>;
  /** Media in `status`, oldest first (by id), after `afterId`: crash recovery pages through them. */
  listMediaByStatus(
    status: MediaStatus,
    options: { limit: number; afterId?: string },
  ): Promise<MediaRecord[]>;
  /** Deletes the record; false when there was none. */
  deleteMedia(id: string): Promise<boolean>;
  /**
   * Whether `userId` may see the media: its uploader, a member of a conversation where a live message
   * carries it, or anyone when it is a user's or a live group's avatar.
   */
  canSeeMedia(userId: string, mediaId: string): Promise<boolean>;
  /** Whether a live message, a user's avatar or a live group's avatar still uses the media. */
  isMediaReferenced(mediaId: string): Promise<boolean>;

  appendAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries, newest first, optionally filtered, before the entry id `before`. */
  listAudit(
    options: { limit: number; before?: string; action?: string; actorId?: string },
  ): Promise<AuditEntry[]>;
}
