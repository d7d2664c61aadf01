/** Global role of an account: `admin` reaches the admin route group. */
export type GlobalRole = "user" | "admin";
/** Presence as the user sets it. */
export type Presence = "online" | "away" | "dnd" | "invisible";
/** Presence as others see it (`invisible` shows as `offline`). */
export type VisiblePresence = "online" | "away" | "dnd" | "offline";
/** Who may see a user's `lastSeenAt`. */
export type LastSeenPrivacy = "everyone" | "contacts" | "nobody";
/** Who may open a direct conversation with a user, or add them to a group (others invite them). */
export type ReachPrivacy = "everyone" | "contacts" | "nobody";

/** A site admin's suspension of an account: login is refused until `until` (null: until lifted). */
export interface Suspension {
  at: string;
  until: string | null;
  /** The admin's reason, sealed under the moderation key. */
  reason: SealedText | null;
}

/** An account as stored (without its password hash). */
export interface User {
  id: string;
  username: string;
  displayName: string;
  role: GlobalRole;
  avatarMediaId: string | null;
  statusText: string | null;
  presence: Presence;
  privacy: {
    lastSeen: LastSeenPrivacy;
    /** False: others see no `readAt` of this user, and this user sees none of others. */
    readReceipts: boolean;
    /** Who may open a direct conversation with this user. */
    directMessages: ReachPrivacy;
    /** Who may add this user to a group; anyone else's add becomes an invitation. */
    groupAdds: ReachPrivacy;
  };
  lastSeenAt: string | null;
  createdAt: string;
  deletedAt: string | null;
  /** Set while a site admin has suspended the account. */
  suspension: Suspension | null;
}

/** A login on one device. Its access tokens name it; revoking it kills them. */
export interface Session {
  id: string;
  userId: string;
  deviceName: string | null;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export type ConversationType = "direct" | "group";
/** Member roles, strongest first. */
export type MemberRole = "owner" | "admin" | "moderator" | "member";

/** Group settings; all default to false. */
export interface GroupSettings {
  onlyAdminsCanSend: boolean;
  onlyAdminsCanEditInfo: boolean;
  membersCanAddMembers: boolean;
  /** Disappearing messages: messages sent while set are deleted for everyone this long after. */
  messageTtlSeconds: number | null;
  /** Members (not only admins) may mention everyone (`mentionsAll`). */
  membersCanMentionAll: boolean;
  /** Members below moderator may send once per this many seconds (0: off). */
  slowModeSeconds: number;
  /** Words and phrases no message here may contain (case- and accent-insensitive, whole words). */
  blockedWords: string[];
  /** Listed by discovery and joinable by anyone (groups only). */
  public: boolean;
}

export const DEFAULT_SETTINGS: GroupSettings = {
  onlyAdminsCanSend: false,
  onlyAdminsCanEditInfo: false,
  membersCanAddMembers: false,
  messageTtlSeconds: null,
  membersCanMentionAll: false,
  slowModeSeconds: 0,
  blockedWords: [],
  public: false,
};

/** The bounds of `slowModeSeconds`: off to an hour. */
export const SLOW_MODE_SECONDS = { min: 0, max: 3600 } as const;
/** How many blocked words a conversation or the site may have, and how long each may be. */
export const BLOCKED_WORDS = { max: 500, maxLength: 64 } as const;

/** The bounds of `messageTtlSeconds`: 5 seconds to 90 days. */
export const MESSAGE_TTL_SECONDS = { min: 5, max: 7_776_000 } as const;

/** A conversation as stored. `lastSeq` is the position of its latest durable event. */
export interface Conversation {
  id: string;
  type: ConversationType;
  name: string | null;
  description: string | null;
  avatarMediaId: string | null;
  settings: GroupSettings;
  createdBy: string | null;
  createdAt: string;
  /** Time of the latest durable event: the conversation list is ordered by it. */
  updatedAt: string;
  lastSeq: number;
  memberCount: number;
  retentionDays: number | null;
  deletedAt: string | null;
}

/** One user's membership of a conversation, with their private state in it. */
export interface Member {
  conversationId: string;
  userId: string;
  role: MemberRole;
  joinedAt: string;
  readSeq: number;
  deliveredSeq: number;
  muted: boolean;
  mutedUntil: string | null;
  archived: boolean;
  /** A moderator's timed mute: the member may not send until then (shown as `mutedUntil`). */
  silencedUntil: string | null;
}

export type MessageKind = "text" | "media" | "system" | "poll";

/** An encrypted message body: AES-256-GCM output under the data key `keyId`. */
export interface SealedText {
  keyId: string;
  blob: Uint8Array;
}

/** What a system message records: who did what to whom. Rendered by clients. */
export interface SystemInfo {
  action: string;
  actorId: string | null;
  userIds?: string[];
  role?: MemberRole;
  changes?: string[];
  /** The message a pin or unpin was about. */
  messageId?: string;
}

/** A message as stored: its text only as ciphertext. */
export interface MessageRecord {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string | null;
  clientMsgId: string | null;
  kind: MessageKind;
  body: SealedText | null;
  mediaIds: string[];
  replyTo: string | null;
  mentions: string[];
  system: SystemInfo | null;
  editedAt: string | null;
  deletedAt: string | null;
  createdAt: string;
  /** When a disappearing message is deleted for everyone (absent: never). */
  expiresAt?: string;
  /** Mentions everyone in the conversation (`@all`). */
  mentionsAll?: boolean;
  /**
   * A poll's settings (its question and options are the sealed body, as JSON): single or multiple
   * choice, anonymous (voters are not shown), and when it closes.
   */
  poll?: PollSettings;
  /** A copy of another message: who first sent it (absent once erased) and when. */
  forwarded?: { originalSenderId?: string; originalCreatedAt: string };
  /** A thread reply: the id of the thread's root message (in the same conversation). */
  threadId?: string;
  /** A thread reply that is shown in the main history too. */
  alsoInConversation?: boolean;
}

/**
 * A thread's summary, kept with the commit of each reply: how many replies it has (deleted ones
 * stay as tombstones and still count), when and at which seq the last one came, and who replied, in
 * order of their first reply.
 */
export interface ThreadSummary {
  rootId: string;
  conversationId: string;
  replyCount: number;
  lastReplyAt: string;
  lastReplySeq: number;
  participantIds: string[];
}

/** The non-text part of a poll. */
export interface PollSettings {
  multiple: boolean;
  anonymous: boolean;
  closesAt?: string;
  /** Set by the closing at `closesAt` (the event that tells members). */
  closed?: boolean;
}

/** Votes on one poll: per option, who voted for it, in order of voting. */
export type PollVotes = Array<{ optionId: string; userIds: string[] }>;

/** Reactions on one message: per emoji, who reacted, in order of the emoji's first use. */
export type ReactionSummary = Array<{ emoji: string; userIds: string[] }>;

/** The names of the durable events of a conversation; each takes the next `seq`. */
export type DurableEventName =
  | "message.created"
  | "message.updated"
  | "message.deleted"
  | "reaction.updated"
  | "conversation.created"
  | "conversation.updated"
  | "conversation.deleted"
  | "member.added"
  | "member.removed"
  | "member.updated"
  | "pin.updated";

/** A durable event as stored. `data` never holds message text: message events point at `messageId`. */
export interface EventRecord {
  conversationId: string;
  seq: number;
  event: DurableEventName;
  actorId: string | null;
  messageId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** Roles in rank order, strongest first. */
export const ROLE_RANK: Record<MemberRole, number> = {
  owner: 4,
  admin: 3,
  moderator: 2,
  member: 1,
};
