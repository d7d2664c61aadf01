import {
  type ClientSession,
  type Collection,
  type Db,
  type IndexDescription,
  type MongoClient,
  MongoServerError,
  type TransactionOptions,
  WriteConcern,
} from "mongodb";
import {
  type ActivityDayDoc,
  type AuditDoc,
  type BanDoc,
  type BlockDoc,
  COLLECTIONS,
  type ConversationDoc,
  type DailyCountDoc,
  type DataExportDoc,
  type DraftDoc,
  type EventDoc,
  type HeldMessageDoc,
  type HiddenMessageDoc,
  type InvitationDoc,
  type InviteLinkDoc,
  type JobDoc,
  type LegalHoldDoc,
  type MediaDoc,
  type MemberDoc,
  type MessageDoc,
  type MessageEditDoc,
  type NotificationSettingsDoc,
  type PinDoc,
  type PollVoteDoc,
  type PushConversationPrefDoc,
  type PushDeliveryDoc,
  type PushSubscriptionDoc,
  type ReactionDoc,
  type ReceiptMarkDoc,
  type RefreshTokenDoc,
  type ReportDoc,
  type ScheduledDoc,
  type SearchMessageDoc,
  type SearchProgressDoc,
  type SessionDoc,
  type SessionRevocationDoc,
  type SiteSettingDoc,
  type ThreadDoc,
  type ThreadMemberDoc,
  type UserDoc,
  type UserKeyDoc,
} from "./schema.ts";

/** The typed collections of one Parley database, and the client they belong to. */
export interface Mongo {
  client: MongoClient;
  db: Db;
  users: Collection<UserDoc>;
  sessions: Collection<SessionDoc>;
  sessionRevocations: Collection<SessionRevocationDoc>;
  refreshTokens: Collection<RefreshTokenDoc>;
  userKeys: Collection<UserKeyDoc>;
  conversations: Collection<ConversationDoc>;
  members: Collection<MemberDoc>;
  events: Collection<EventDoc>;
  messages: Collection<MessageDoc>;
  hiddenMessages: Collection<HiddenMessageDoc>;
  reactions: Collection<ReactionDoc>;
  receiptMarks: Collection<ReceiptMarkDoc>;
  auditLog: Collection<AuditDoc>;
  media: Collection<MediaDoc>;
  dataExports: Collection<DataExportDoc>;
  activityDays: Collection<ActivityDayDoc>;
  dailyCounts: Collection<DailyCountDoc>;
  jobs: Collection<JobDoc>;
  scheduled: Collection<ScheduledDoc>;
  messageEdits: Collection<MessageEditDoc>;
  pins: Collection<PinDoc>;
  drafts: Collection<DraftDoc>;
  pollVotes: Collection<PollVoteDoc>;
  threads: Collection<ThreadDoc>;
  threadMembers: Collection<ThreadMemberDoc>;
  blocks: Collection<BlockDoc>;
  invitations: Collection<InvitationDoc>;
  reports: Collection<ReportDoc>;
  bans: Collection<BanDoc>;
  inviteLinks: Collection<InviteLinkDoc>;
  siteSettings: Collection<SiteSettingDoc>;
  pushSubscriptions: Collection<PushSubscriptionDoc>;
  pushConversationPrefs: Collection<PushConversationPrefDoc>;
  notificationSettings: Collection<NotificationSettingsDoc>;
  pushDeliveries: Collection<PushDeliveryDoc>;
  searchMessages: Collection<SearchMessageDoc>;
  searchProgress: Collection<SearchProgressDoc>;
  legalHolds: Collection<LegalHoldDoc>;
  heldMessages: Collection<HeldMessageDoc>;
}

/** An optional session: group changes pass theirs, the send path runs without one. */
export type Session = ClientSession | undefined;

/** The typed collections of database `db` on `client`, for the sub-stores to share. */
export function collections(client: MongoClient, db: Db): Mongo {
  return {
    client,
    db,
    users: db.collection<UserDoc>(COLLECTIONS.users),
    sessions: db.collection<SessionDoc>(COLLECTIONS.sessions),
    sessionRevocations: db.collection<SessionRevocationDoc>(COLLECTIONS.sessionRevocations),
    refreshTokens: db.collection<RefreshTokenDoc>(COLLECTIONS.refreshTokens),
    userKeys: db.collection<UserKeyDoc>(COLLECTIONS.userKeys),
    conversations: db.collection<ConversationDoc>(COLLECTIONS.conversations),
    members: db.collection<MemberDoc>(COLLECTIONS.members),
    events: db.collection<EventDoc>(COLLECTIONS.events),
    messages: db.collection<MessageDoc>(COLLECTIONS.messages),
    hiddenMessages: db.collection<HiddenMessageDoc>(COLLECTIONS.hiddenMessages),
    reactions: db.collection<ReactionDoc>(COLLECTIONS.reactions),
    receiptMarks: db.collection<ReceiptMarkDoc>(COLLECTIONS.receiptMarks),
    auditLog: db.collection<AuditDoc>(COLLECTIONS.auditLog),
    media: db.collection<MediaDoc>(COLLECTIONS.media),
    dataExports: db.collection<DataExportDoc>(COLLECTIONS.dataExports),
    activityDays: db.collection<ActivityDayDoc>(COLLECTIONS.activityDays),
    dailyCounts: db.collection<DailyCountDoc>(COLLECTIONS.dailyCounts),
    jobs: db.collection<JobDoc>(COLLECTIONS.jobs),
    scheduled: db.collection<ScheduledDoc>(COLLECTIONS.scheduled),
    messageEdits: db.collection<MessageEditDoc>(COLLECTIONS.messageEdits),
    pins: db.collection<PinDoc>(COLLECTIONS.pins),
    drafts: db.collection<DraftDoc>(COLLECTIONS.drafts),
    pollVotes: db.collection<PollVoteDoc>(COLLECTIONS.pollVotes),
    threads: db.collection<ThreadDoc>(COLLECTIONS.threads),
    threadMembers: db.collection<ThreadMemberDoc>(COLLECTIONS.threadMembers),
    blocks: db.collection<BlockDoc>(COLLECTIONS.blocks),
    invitations: db.collection<InvitationDoc>(COLLECTIONS.invitations),
    reports: db.collection<ReportDoc>(COLLECTIONS.reports),
    bans: db.collection<BanDoc>(COLLECTIONS.bans),
    inviteLinks: db.collection<InviteLinkDoc>(COLLECTIONS.inviteLinks),
    siteSettings: db.collection<SiteSettingDoc>(COLLECTIONS.siteSettings),
    pushSubscriptions: db.collection<PushSubscriptionDoc>(COLLECTIONS.pushSubscriptions),
    pushConversationPrefs: db.collection<PushConversationPrefDoc>(
      COLLECTIONS.pushConversationPrefs,
    ),
    notificationSettings: db.collection<NotificationSettingsDoc>(
      COLLECTIONS.notificationSettings,
    ),
    pushDeliveries: db.collection<PushDeliveryDoc>(COLLECTIONS.pushDeliveries),
    searchMessages: db.collection<SearchMessageDoc>(COLLECTIONS.searchMessages),
    searchProgress: db.collection<SearchProgressDoc>(COLLECTIONS.searchProgress),
    legalHolds: db.collection<LegalHoldDoc>(COLLECTIONS.legalHolds),
    heldMessages: db.collection<HeldMessageDoc>(COLLECTIONS.heldMessages),
  };
}

const isString = { $type: "string" };

/**
 * Equality on a field with a partial index filtered by `$type: "string"`: the predicate repeats the
 * index's filter, so the planner can use that index (it needs the filter in the query).
 */
export function partialEq(value: string): { $eq: string; $type: "string" } {
  return { $eq: value, $type: "string" };
}

/** Every index, by collection. Unique ones carry the port's guarantees. */
const INDEXES: Record<keyof typeof COLLECTIONS, IndexDescription[]> = {
  users: [
    { key: { username: 1 }, name: "username_unique", unique: true },
    { key: { displayNameFold: 1 }, name: "display_name_fold" },
    {
      key: { avatarMediaId: 1 },
      name: "avatar",
      partialFilterExpression: { avatarMediaId: isString },
    },
    // Erasures that began: the sweep finds unfinished ones.
    { key: { deletedAt: 1 }, name: "deleted", partialFilterExpression: { deletedAt: isString } },
  ],
  sessions: [{ key: { userId: 1, createdAt: -1 }, name: "user_sessions" }],
  // The poll for recent revocations and the purge of old ones.
  sessionRevocations: [{ key: { at: 1 }, name: "at" }],
  refreshTokens: [{ key: { sessionId: 1 }, name: "session" }],
  userKeys: [
    {
      key: { currentOf: 1 },
      name: "current_key_unique",
      unique: true,
      partialFilterExpression: { currentOf: isString },
    },
    { key: { kekId: 1 }, name: "kek" },
    // An erasure destroys every key of one user.
    { key: { userId: 1 }, name: "user" },
  ],
  conversations: [
    {
      key: { directKey: 1 },
      name: "direct_pair_unique",
      unique: true,
      partialFilterExpression: { directKey: isString },
    },
    {
      key: { avatarMediaId: 1 },
      name: "avatar",
      partialFilterExpression: { avatarMediaId: isString },
    },
    {
      key: { retentionDays: 1 },
      name: "retention",
      partialFilterExpression: { retentionDays: { $gte: 1 } },
    },
    // Discovery: public groups by folded name (queries repeat `public: true`).
    {
      key: { nameFold: 1, _id: 1 },
      name: "discovery",
      partialFilterExpression: { public: true },
    },
  ],
  members: [
    { key: { userId: 1, archived: 1 }, name: "user_memberships" },
    { key: { conversationId: 1, joinedAt: 1, userId: 1 }, name: "join_order" },
  ],
  events: [
    { key: { conversationId: 1, seq: 1 }, name: "log_unique", unique: true },
    // Retention removes the later events of the messages it removes.
    { key: { messageId: 1 }, name: "message" },
  ],
  messages: [
    { key: { conversationId: 1, seq: 1 }, name: "history_unique", unique: true },
    {
      key: { senderId: 1, clientMsgId: 1 },
      name: "idempotency_unique",
      unique: true,
      partialFilterExpression: { clientMsgId: isString },
    },
    // Multikey: which messages carry a media item (access checks and release).
    { key: { mediaIds: 1, conversationId: 1 }, name: "media_refs" },
    // What a user sent (export and erasure page through it).
    { key: { senderId: 1, conversationId: 1, seq: 1 }, name: "sent" },
    // Multikey, over messages that name someone: a member's unread mentions, and the mentions feed.
    {
      key: { mentions: 1, conversationId: 1, seq: 1 },
      name: "mentions",
      partialFilterExpression: { mentions: isString },
    },
    {
      key: { mentions: 1, createdAt: -1, _id: -1 },
      name: "mentions_feed",
      partialFilterExpression: { mentions: isString },
    },
    // The same for messages that mention everyone (few, so these stay small). `mentionsAll` leads
    // so the key pattern differs from `history_unique`'s.
    {
      key: { mentionsAll: 1, conversationId: 1, seq: 1 },
      name: "mentions_all",
      partialFilterExpression: { mentionsAll: true },
    },
    {
      key: { mentionsAll: 1, conversationId: 1, createdAt: -1, _id: -1 },
      name: "mentions_all_feed",
      partialFilterExpression: { mentionsAll: true },
    },
    // A thread's replies in seq order (its pages and unread counts), over thread replies only.
    {
      key: { threadId: 1, seq: 1 },
      name: "thread",
      partialFilterExpression: { threadId: isString },
    },
  ],
  hiddenMessages: [
    { key: { userId: 1, conversationId: 1 }, name: "user_conversation" },
    { key: { messageId: 1 }, name: "message" },
  ],
  messageEdits: [{ key: { messageId: 1, editedAt: 1 }, name: "message_versions" }],
  reactions: [
    { key: { messageId: 1, createdAt: 1, userId: 1 }, name: "first_use" },
    { key: { userId: 1, messageId: 1, emoji: 1 }, name: "user" },
  ],
  pins: [
    // A conversation's pins, newest first (and the pin limit's count).
    { key: { conversationId: 1, pinnedAt: -1, messageId: -1 }, name: "conversation_pins" },
    // Deleting a message for everyone, erasure and retention remove its pins.
    { key: { messageId: 1 }, name: "message" },
  ],
  receiptMarks: [{ key: { conversationId: 1, seq: 1 }, name: "conversation_seq" }],
  auditLog: [
    { key: { action: 1, _id: -1 }, name: "action" },
    { key: { actorId: 1, _id: -1 }, name: "actor" },
  ],
  media: [
    { key: { status: 1, _id: 1 }, name: "status" },
    { key: { ownerId: 1, _id: 1 }, name: "owner" },
  ],
  dataExports: [
    { key: { userId: 1, createdAt: -1 }, name: "user" },
    { key: { expiresAt: 1 }, name: "expiry" },
    {
      key: { leaseUntil: 1 },
      name: "lease",
      partialFilterExpression: { status: "processing" },
    },
  ],
  activityDays: [{ key: { day: 1, userId: 1 }, name: "day_user" }],
  dailyCounts: [{ key: { day: 1 }, name: "day" }],
  jobs: [
    // One pending job per key; failed jobs keep theirs without blocking a new one.
    {
      key: { key: 1 },
      name: "pending_key_unique",
      unique: true,
      partialFilterExpression: { status: "pending", key: isString },
    },
    // Claims and the next wake-up: pending jobs in `runAt` order.
    { key: { status: 1, runAt: 1 }, name: "due" },
    // `getByKey` finds failed jobs too, newest first.
    {
      key: { key: 1, createdAt: -1, _id: -1 },
      name: "key_history",
      partialFilterExpression: { key: isString },
    },
  ],
  scheduled: [
    // Scheduling again with the same key is answered with the first one.
    { key: { userId: 1, clientMsgId: 1 }, name: "idempotency_unique", unique: true },
    // A user's scheduled messages, soonest first.
    { key: { userId: 1, sendAt: 1, _id: 1 }, name: "user_send_at" },
  ],
  drafts: [
    // A user's drafts, newest first (export), and erasure's delete of them all.
    { key: { userId: 1, updatedAt: -1 }, name: "user_updated" },
  ],
  pollVotes: [
    // The votes on a poll in voting order (and deleting a message's votes).
    { key: { messageId: 1, votedAt: 1, userId: 1 }, name: "message_votes" },
    // A user's votes: on one poll (replacing them), all of them (export, erasure).
    { key: { userId: 1, messageId: 1 }, name: "user" },
  ],
  threads: [
    // A conversation's threads, latest reply first (`_id` is the root id).
    { key: { conversationId: 1, lastReplyAt: -1, _id: -1 }, name: "activity" },
  ],
  threadMembers: [
    // A user's threads: those they follow in their conversations (the followed list), all of them
    // in order (export), and erasure's delete of them all.
    { key: { userId: 1, conversationId: 1, rootId: 1 }, name: "user" },
    // A thread's followers and readers: retention removes them with a purged root.
    { key: { rootId: 1 }, name: "root" },
  ],
  blocks: [
    // Whom a user blocks, newest first (and erasure's delete of them).
    { key: { userId: 1, createdAt: -1, blockedId: 1 }, name: "user_blocks" },
    // Who blocks a user (and erasure's delete of them).
    { key: { blockedId: 1, userId: 1 }, name: "blocked" },
  ],
  invitations: [
    // One pending invitation per group and invitee; answered ones keep theirs without blocking.
    {
      key: { conversationId: 1, inviteeId: 1 },
      name: "pending_unique",
      unique: true,
      partialFilterExpression: { status: "pending" },
    },
    // A user's invitations, newest first (and erasure's delete of those received and sent).
    { key: { inviteeId: 1, createdAt: -1, _id: -1 }, name: "invitee" },
    { key: { inviterId: 1 }, name: "inviter" },
  ],
  reports: [
    // The open and resolved queues, newest first.
    { key: { status: 1, createdAt: -1, _id: -1 }, name: "queue" },
    // A user's reports (export) and their anonymization at erasure.
    { key: { reporterId: 1, createdAt: 1, _id: 1 }, name: "reporter" },
  ],
  bans: [
    // A conversation's bans, newest first.
    { key: { conversationId: 1, createdAt: -1, userId: 1 }, name: "conversation_bans" },
    // Erasure lifts a user's bans.
    { key: { userId: 1 }, name: "user" },
  ],
  inviteLinks: [
    // A conversation's links, newest first.
    { key: { conversationId: 1, createdAt: -1, _id: 1 }, name: "conversation_links" },
  ],
  // Read by `_id` only.
  siteSettings: [],
  pushSubscriptions: [
    // The same device subscribing again from one session replaces, not duplicates; revoking or
    // deleting a session deletes its subscriptions on this index's prefix.
    { key: { sessionId: 1, fingerprint: 1 }, name: "session_fingerprint_unique", unique: true },
    // A user's subscriptions, oldest first (a message's recipients, export and erasure).
    { key: { userId: 1, createdAt: 1, _id: 1 }, name: "user" },
  ],
  pushConversationPrefs: [
    // Every user's preferences for one conversation (a message's recipients).
    { key: { conversationId: 1 }, name: "conversation" },
    // A user's preferences in conversation order (export), and erasure's delete of them.
    { key: { userId: 1, conversationId: 1 }, name: "user" },
  ],
  // Read by `_id` (the user id) only.
  notificationSettings: [],
  pushDeliveries: [
    // Each push is claimed once across instances, retries and crashes.
    {
      key: { kind: 1, conversationId: 1, seq: 1, sessionId: 1 },
      name: "claim_unique",
      unique: true,
    },
    // The sessions a user's pushes in a conversation went to (cleared after a read), and erasure.
    { key: { userId: 1, conversationId: 1, seq: 1 }, name: "user" },
    // Pruning old records.
    { key: { createdAt: 1 }, name: "created" },
  ],
  searchMessages: [
    // Multikey, the postings: the messages holding a token, newest first.
    { key: { tokens: 1, _id: -1 }, name: "tokens" },
    // A conversation's indexed messages, newest first (a search confined to a few conversations).
    { key: { conversationId: 1, _id: -1 }, name: "conversation" },
    // Reindexing finds the messages indexed under an older key.
    { key: { keyVersion: 1 }, name: "key_version" },
  ],
  // Read by `_id` (the conversation id) only.
  searchProgress: [],
  // Read by `_id` (the conversation id), or all of them (few).
  legalHolds: [],
  heldMessages: [
    // A conversation's held content (an export, lifting the hold).
    { key: { conversationId: 1 }, name: "conversation" },
    // Multikey: held media still count as used.
    { key: { mediaIds: 1 }, name: "media" },
  ],
};

/**
 * Creates every collection's indexes (and so the collections, which transactions need to exist).
 * Idempotent: an index that already exists with the same definition is left alone.
 */
export async function ensureIndexes(m: Mongo): Promise<void> {
  for (const [name, specs] of Object.entries(INDEXES)) {
    // The server refuses an empty index list; such a collection is created by its first write.
    if (specs.length === 0) continue;
    await m[name as keyof typeof COLLECTIONS].createIndexes(specs);
  }
}

/** True for a unique index violation (server error 11000). */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** Explicit on event inserts: an event is acknowledged only once a majority holds it. */
export const MAJORITY = { writeConcern: { w: "majority" as const } };

const TRANSACTION: TransactionOptions = {
  readConcern: { level: "snapshot" },
  writeConcern: new WriteConcern("majority"),
  readPreference: "primary",
};

/**
 * Runs `fn` in a multi-document transaction (retried by the driver on transient errors, so `fn` may
 * run more than once and must not catch server errors). Only group changes and conversation creation
 * use one; it needs a replica set or sharded cluster.
 */
export async function inTransaction<T>(
  m: Mongo,
  fn: (session: ClientSession) => Promise<T>,
): Promise<T> {
  return await m.client.withSession((session) => session.withTransaction(fn, TRANSACTION));
}

/**
 * Runs reads concurrently without a session, one after another within one: a transaction's session
 * must not carry two operations at once.
 */
export async function eachOf<T>(session: Session, tasks: Array<() => Promise<T>>): Promise<T[]> {
  if (!session) return await Promise.all(tasks.map((task) => task()));
  const out: T[] = [];
  for (const task of tasks) out.push(await task());
  return out;
}
