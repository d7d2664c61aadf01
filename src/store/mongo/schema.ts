import type { Binary } from "mongodb";
import type { MediaRecord } from "../../domain/media.ts";
import type { DailyCounter, DataExportRecord } from "../../domain/privacy.ts";
import type {
  Conversation,
  EventRecord,
  GlobalRole,
  GroupSettings,
  LastSeenPrivacy,
  MemberRole,
  MessageKind,
  PollSettings,
  Presence,
  ReachPrivacy,
  SystemInfo,
} from "../../domain/types.ts";
import type { JobRecord } from "../jobs.ts";
import type { InvitationStatus, ReportReason, ReportRecord } from "../moderation.ts";
import type {
  NotificationSettingsRecord,
  NotifyLevel,
  PushDeliveryRecord,
  PushSubscriptionKind,
} from "../push.ts";
import type { ScheduledRecord } from "../scheduled.ts";

// The documents of Parley's MongoDB database, one collection per SQLite table (same names), so the
// migration maps table to collection one to one. Ids are our own strings, used as `_id`; composite
// keys are joined with ":" (our ids never contain one). Times stay ISO strings, so ordering and
// equality are exactly SQLite's.

/** An account; `displayNameFold` serves the prefix search. */
export interface UserDoc {
  _id: string;
  username: string;
  displayName: string;
  displayNameFold: string;
  passwordHash: string;
  role: GlobalRole;
  avatarMediaId: string | null;
  statusText: string | null;
  presence: Presence;
  privacyLastSeen: LastSeenPrivacy;
  /** Absent on documents written before the setting existed: receipts on. */
  privacyReadReceipts?: boolean;
  /** Absent on documents written before the setting existed: everyone. */
  privacyDirectMessages?: ReachPrivacy;
  /** Absent on documents written before the setting existed: everyone. */
  privacyGroupAdds?: ReachPrivacy;
  lastSeenAt: string | null;
  createdAt: string;
  deletedAt: string | null;
  /** A site admin's suspension (its reason sealed); absent or null when there is none. */
  suspension?: {
    at: string;
    until: string | null;
    reason: { keyId: string; blob: Binary } | null;
  } | null;
  /** When an erasure completed; absent or null while it is pending (or never began). */
  erasedAt?: string | null;
}

/** A login session (`_id` is the session id). */
export interface SessionDoc {
  _id: string;
  userId: string;
  deviceName: string | null;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

/**
 * A session revoked or deleted, and when (`at`, the writing instance's clock at the write): instances
 * poll these, so a revocation reaches their caches and sockets even when pub/sub does not. `_id` is
 * the driver's ObjectId; one session may have more than one (repeated or racing revokes).
 */
export interface SessionRevocationDoc {
  sessionId: string;
  at: string;
}

/** A refresh token by hash (`_id`); `usedAt` is set once, when it is exchanged. */
export interface RefreshTokenDoc {
  _id: string;
  sessionId: string;
  createdAt: string;
  usedAt: string | null;
}

/**
 * A wrapped data key. `currentOf` holds the user id while the key is the user's current one and is
 * absent once retired; a unique partial index on it keeps one current key per user.
 */
export interface UserKeyDoc {
  _id: string;
  userId: string;
  wrapped: Binary;
  kekId: string;
  createdAt: string;
  retiredAt: string | null;
  currentOf?: string;
}

/**
 * A conversation and its head (`lastSeq`); `directKey` is unique among direct conversations.
 * `public` (a copy of `settings.public`) and `nameFold` (the folded name) serve discovery; both are
 * absent on documents written before discovery existed (not public).
 */
export interface ConversationDoc {
  _id: string;
  type: Conversation["type"];
  directKey: string | null;
  name: string | null;
  description: string | null;
  avatarMediaId: string | null;
  settings: GroupSettings;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  lastSeq: number;
  memberCount: number;
  retentionDays: number | null;
  deletedAt: string | null;
  public?: boolean;
  nameFold?: string | null;
}

/**
 * A membership, `_id` = `conversationId:userId`. `lastSentAt` is the member's last send under slow
 * mode (absent until then; only the commit's slow-mode check writes it).
 */
export interface MemberDoc {
  _id: string;
  conversationId: string;
  userId: string;
  role: MemberRole;
  joinedAt: string;
  readSeq: number;
  deliveredSeq: number;
  muted: boolean;
  mutedUntil: string | null;
  archived: boolean;
  /** A moderator's timed mute; absent on documents written before it existed (none). */
  silencedUntil?: string | null;
  lastSentAt?: string | null;
}

/**
 * A durable event, `_id` = `conversationId:seq`. `seqAt` (epoch ms, 0 for migrated events) is when its
 * seq was taken: it tells a commit still in flight from a hole that will never fill.
 */
export interface EventDoc {
  _id: string;
  conversationId: string;
  seq: number;
  event: EventRecord["event"];
  actorId: string | null;
  messageId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
  seqAt: number;
}

/**
 * One version of an edited message's text: `_id` = `<messageId>:0` for the text as first sent
 * (`original`), `<messageId>:<editedAt>` for each edit.
 */
export interface MessageEditDoc {
  _id: string;
  messageId: string;
  original: boolean;
  body: { keyId: string; blob: Binary };
  editedAt: string;
}

/** A message; its body is ciphertext in a BSON Binary. */
export interface MessageDoc {
  _id: string;
  conversationId: string;
  seq: number;
  senderId: string | null;
  clientMsgId: string | null;
  kind: MessageKind;
  body: { keyId: string; blob: Binary } | null;
  mediaIds: string[];
  replyTo: string | null;
  mentions: string[];
  system: SystemInfo | null;
  editedAt: string | null;
  deletedAt: string | null;
  createdAt: string;
  /** When a disappearing message is deleted for everyone. */
  expiresAt?: string;
  /** A copy of another message: who first sent it and when. */
  forwarded?: { originalSenderId?: string; originalCreatedAt: string };
  /**
   * Mentions everyone: present (true) only then, unset when the message is deleted for everyone.
   * Who it mentions by name is `mentions` (the sender's own id may be there; it never counts).
   */
  mentionsAll?: boolean;
  /** A poll's settings: present only on polls (their question and options are the sealed body). */
  poll?: PollSettings;
  /** A thread reply: the id of the thread's root message (in the same conversation). */
  threadId?: string;
  /**
   * False (present) only on a thread reply that is not shown in the main history; absent on every
   * other message, those written before threads existed included: they are all in the main history
   * (queries test `inMain: { $ne: false }`).
   */
  inMain?: false;
}

/** A message one user deleted for themselves, `_id` = `userId:messageId`. */
export interface HiddenMessageDoc {
  _id: string;
  userId: string;
  messageId: string;
  conversationId: string;
}

/** One user's reaction, `_id` = `messageId:userId:emoji`. */
export interface ReactionDoc {
  _id: string;
  messageId: string;
  userId: string;
  emoji: string;
  createdAt: string;
}

/** A pinned message, `_id` = `conversationId:messageId`. */
export interface PinDoc {
  _id: string;
  conversationId: string;
  messageId: string;
  pinnedBy: string;
  pinnedAt: string;
}

/**
 * One user's vote for one option of a poll, `_id` = `messageId:userId:optionId` (see
 * {@link pollVoteKey}); a user's votes on a poll are replaced together and share `votedAt`.
 */
export interface PollVoteDoc {
  _id: string;
  messageId: string;
  userId: string;
  optionId: string;
  votedAt: string;
}

/**
 * A thread's summary, `_id` = the root message's id, kept by the commit of each reply: the reply
 * count (deleted replies stay as tombstones and still count), the last reply's time and seq, and who
 * replied, in order of their first reply.
 */
export interface ThreadDoc {
  _id: string;
  conversationId: string;
  replyCount: number;
  lastReplyAt: string;
  lastReplySeq: number;
  participantIds: string[];
}

/**
 * One user's state in one thread, `_id` = `userId:rootId` (see {@link threadMemberKey}): whether
 * they follow it (they replied, were mentioned in a reply, or wrote the root) and their read marker.
 */
export interface ThreadMemberDoc {
  _id: string;
  userId: string;
  rootId: string;
  conversationId: string;
  following: boolean;
  readSeq: number;
}

/** When a member's marker first reached `seq`, `_id` = `conversationId:userId:kind:seq`. */
export interface ReceiptMarkDoc {
  _id: string;
  conversationId: string;
  userId: string;
  kind: "read" | "delivered";
  seq: number;
  at: string;
}

/** An audit log entry (`_id` is the entry id, which sorts by time). */
export interface AuditDoc {
  _id: string;
  at: string;
  action: string;
  actorId: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/** The collection names; each equals the SQLite table it corresponds to. */
export const COLLECTIONS = {
  users: "users",
  sessions: "sessions",
  sessionRevocations: "session_revocations",
  refreshTokens: "refresh_tokens",
  userKeys: "user_keys",
  conversations: "conversations",
  members: "members",
  events: "events",
  messages: "messages",
  hiddenMessages: "hidden_messages",
  reactions: "reactions",
  receiptMarks: "receipt_marks",
  auditLog: "audit_log",
  media: "media",
  dataExports: "data_exports",
  activityDays: "activity_days",
  dailyCounts: "daily_counts",
  jobs: "jobs",
  scheduled: "scheduled_messages",
  messageEdits: "message_edits",
  pins: "pins",
  drafts: "drafts",
  pollVotes: "poll_votes",
  threads: "threads",
  threadMembers: "thread_members",
  blocks: "blocks",
  invitations: "invitations",
  reports: "reports",
  bans: "bans",
  inviteLinks: "invite_links",
  siteSettings: "site_settings",
  pushSubscriptions: "push_subscriptions",
  pushConversationPrefs: "push_conversation_prefs",
  notificationSettings: "notification_settings",
  pushDeliveries: "push_deliveries",
  searchMessages: "search_messages",
  searchProgress: "search_progress",
  legalHolds: "legal_holds",
  heldMessages: "held_messages",
} as const;

export function memberKey(conversationId: string, userId: string): string {
  return `${conversationId}:${userId}`;
}

export function eventKey(conversationId: string, seq: number): string {
  return `${conversationId}:${seq}`;
}

export function hiddenKey(userId: string, messageId: string): string {
  return `${userId}:${messageId}`;
}

export function reactionKey(r: { messageId: string; userId: string; emoji: string }): string {
  return `${r.messageId}:${r.userId}:${r.emoji}`;
}

/** The `_id` of a {@link PinDoc}. */
export function pinKey(conversationId: string, messageId: string): string {
  return `${conversationId}:${messageId}`;
}

/** The `_id` of a {@link PollVoteDoc}. */
export function pollVoteKey(v: { messageId: string; userId: string; optionId: string }): string {
  return `${v.messageId}:${v.userId}:${v.optionId}`;
}

/** The `_id` of a {@link ThreadMemberDoc}. */
export function threadMemberKey(userId: string, rootId: string): string {
  return `${userId}:${rootId}`;
}

/** The `_id` of a {@link DraftDoc}: the thread part is empty for the conversation itself. */
export function draftKey(userId: string, conversationId: string, threadId: string | null): string {
  return `${userId}:${conversationId}:${threadId ?? ""}`;
}

/** The `_id` of a {@link BlockDoc}. */
export function blockKey(userId: string, blockedId: string): string {
  return `${userId}:${blockedId}`;
}

/** The `_id` of a {@link BanDoc}. */
export function banKey(conversationId: string, userId: string): string {
  return `${conversationId}:${userId}`;
}

/** The `_id` of a {@link PushConversationPrefDoc}. */
export function pushPrefKey(userId: string, conversationId: string): string {
  return `${userId}:${conversationId}`;
}

export function receiptMarkKey(
  mark: { conversationId: string; userId: string; kind: "read" | "delivered"; seq: number },
): string {
  return `${mark.conversationId}:${mark.userId}:${mark.kind}:${mark.seq}`;
}

/** A media record (`_id` is the media id), as the port's `MediaRecord`. */
export type MediaDoc = Omit<MediaRecord, "id"> & { _id: string };

/** A data export job (`_id` is the export id), as the port's `DataExportRecord`. */
export type DataExportDoc = Omit<DataExportRecord, "id" | "conversationId"> & {
  _id: string;
  /** Absent on exports made before conversation exports. */
  conversationId?: string | null;
};

/** One user active on one UTC day, `_id` = `day:userId`. */
export interface ActivityDayDoc {
  _id: string;
  day: string;
  userId: string;
}

/** One daily counter, `_id` = `day|metric`. */
export interface DailyCountDoc {
  _id: string;
  day: string;
  metric: DailyCounter;
  value: number;
}

/**
 * A durable job (`_id` is the job id), as the port's `JobRecord`. `key` is null for unkeyed jobs; a
 * unique partial index on `key` among `pending` jobs keeps one pending job per key (failed ones keep
 * theirs without blocking a new one).
 */
export type JobDoc = Omit<JobRecord, "id"> & { _id: string };

/**
 * A scheduled message (`_id` is its id), as the port's `ScheduledRecord`; its body is ciphertext in a
 * BSON Binary, as a message's. (userId, clientMsgId) is unique.
 */
export interface ScheduledDoc {
  _id: string;
  userId: string;
  conversationId: string;
  clientMsgId: string;
  body: { keyId: string; blob: Binary } | null;
  mediaIds: string[];
  sendAt: string;
  status: ScheduledRecord["status"];
  failure: { code: string; detail: string } | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A user's draft, `_id` = `userId:conversationId:threadId` (see {@link draftKey}; the thread part is
 * empty for the conversation itself), as the port's `DraftRecord`; its body is ciphertext in a BSON
 * Binary, as a message's.
 */
export interface DraftDoc {
  _id: string;
  userId: string;
  conversationId: string;
  threadId: string | null;
  body: { keyId: string; blob: Binary };
  updatedAt: string;
}

/** One user blocking another, `_id` = `userId:blockedId` (see {@link blockKey}). */
export interface BlockDoc {
  _id: string;
  userId: string;
  blockedId: string;
  createdAt: string;
}

/**
 * An invitation to a group (`_id` is its id). A unique partial index on (conversationId, inviteeId)
 * among `pending` ones keeps one pending invitation per group and invitee.
 */
export interface InvitationDoc {
  _id: string;
  conversationId: string;
  inviterId: string;
  inviteeId: string;
  status: InvitationStatus;
  createdAt: string;
  answeredAt: string | null;
}

/**
 * A report (`_id` is its id); the note and the evidence are ciphertext in a BSON Binary, as a
 * message's body. `reporterId` and `note` are null once the reporter was erased.
 */
export interface ReportDoc {
  _id: string;
  reporterId: string | null;
  reason: ReportReason;
  note: { keyId: string; blob: Binary } | null;
  conversationId: string | null;
  messageId: string | null;
  userId: string | null;
  evidence: { keyId: string; blob: Binary } | null;
  status: ReportRecord["status"];
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

/** A ban from a conversation, `_id` = `conversationId:userId` (see {@link banKey}). */
export interface BanDoc {
  _id: string;
  conversationId: string;
  userId: string;
  bannedBy: string;
  reason: { keyId: string; blob: Binary } | null;
  until: string | null;
  createdAt: string;
}

/** An invite link (`_id` is its code); `uses` is counted by the joins' commits. */
export interface InviteLinkDoc {
  _id: string;
  conversationId: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

/** One site-wide setting (`_id` is its key, e.g. `blockedWords`), its value as JSON would hold it. */
export interface SiteSettingDoc {
  _id: string;
  value: unknown;
}

/**
 * One session's push subscription (`_id` is its id); the target is ciphertext in a BSON Binary, as a
 * message's body. (sessionId, fingerprint) is unique: the same device subscribing again replaces.
 */
export interface PushSubscriptionDoc {
  _id: string;
  userId: string;
  sessionId: string;
  kind: PushSubscriptionKind;
  target: { keyId: string; blob: Binary };
  fingerprint: string;
  createdAt: string;
}

/** A user's push preferences for one conversation, `_id` = `userId:conversationId`. */
export interface PushConversationPrefDoc {
  _id: string;
  userId: string;
  conversationId: string;
  notify: NotifyLevel | null;
  mutedUntil: string | null;
  updatedAt: string;
}

/** A user's push settings (`_id` is the user id); the keywords are ciphertext in a BSON Binary. */
export interface NotificationSettingsDoc {
  _id: string;
  preview: NotificationSettingsRecord["preview"];
  quietHours: NotificationSettingsRecord["quietHours"];
  keywords: { keyId: string; blob: Binary } | null;
  updatedAt: string;
}

/**
 * One push to one session for one cause (`_id` is its ack id), as the port's `PushDeliveryRecord`.
 * (kind, conversationId, seq, sessionId) is unique: each push is claimed once.
 */
export type PushDeliveryDoc = Omit<PushDeliveryRecord, "ackId"> & { _id: string };

/**
 * What the search index holds for one message (`_id` is the message id): its filter fields and its
 * keyed tokens, each 16 bytes in a BSON Binary, never a word. The tokens are the postings: a
 * multikey index on them finds the messages holding a token, newest first.
 */
export interface SearchMessageDoc {
  _id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  createdAt: string;
  hasMedia: boolean;
  hasLink: boolean;
  keyVersion: number;
  tokens: Binary[];
}

/** How far a conversation's events have been indexed (`_id` is the conversation id). */
export interface SearchProgressDoc {
  _id: string;
  seq: number;
}

/** A legal hold on a conversation (`_id` is the conversation id). */
export interface LegalHoldDoc {
  _id: string;
  placedBy: string;
  placedAt: string;
  reason: string | null;
}

/** The content a hold keeps of a deleted message (`_id` is the message id). */
export interface HeldMessageDoc {
  _id: string;
  conversationId: string;
  senderId: string | null;
  body: { keyId: string; blob: Binary } | null;
  mediaIds: string[];
  replyTo: string | null;
  createdAt: string;
  deletedAt: string | null;
}
