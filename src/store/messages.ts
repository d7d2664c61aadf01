import type {
  MessageRecord,
  PollVotes,
  ReactionSummary,
  SealedText,
  ThreadSummary,
} from "../domain/types.ts";

/** A page of history, in ascending seq order. */
export interface MessagePage {
  messages: MessageRecord[];
  hasMore: boolean;
}

/** One version of a message's text: 0 as first sent, then one per edit. */
export interface MessageVersion {
  version: number;
  body: SealedText;
  /** When this text was set (for version 0, when the message was sent). */
  editedAt: string;
}

/** A pinned message of a conversation: who pinned it and when. */
export interface PinRecord {
  messageId: string;
  pinnedBy: string;
  pinnedAt: string;
}

/** A thread in a list: its summary, its root as stored and how many replies the viewer has not read. */
export interface ThreadRow {
  summary: ThreadSummary;
  root: MessageRecord;
  unreadCount: number;
}

/** Where a thread list page starts: after this (lastReplyAt, rootId), newest activity first. */
export interface ThreadCursor {
  lastReplyAt: string;
  rootId: string;
}

/** One user's state in one thread: whether they follow it and how far they have read it. */
export interface ThreadMembership {
  conversationId: string;
  rootId: string;
  following: boolean;
  readSeq: number;
}

/** When each member's delivered and read markers first reached a position. */
export interface ReceiptRow {
  userId: string;
  deliveredAt: string | null;
  readAt: string | null;
}

/**
 * Messages as they are now (they change through the log), reactions, per-user hidden messages and
 * read/delivered markers. Part of {@link import("./store.ts").Store}.
 */
export interface MessageStore {
  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | null>;
  getMessageByClientId(senderId: string, clientMsgId: string): Promise<MessageRecord | null>;
  /**
   * History as `viewerId` sees it (messages they deleted for themselves left out). Thread replies are
   * left out unless they were sent `alsoInConversation`.
   */
  listMessages(
    conversationId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ): Promise<MessagePage>;
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
  /**
   * The text history of an edited message, oldest first (empty when it was never edited). Written by
   * the `editMessage` mutation in the commit of the edit; erasing the message removes it.
   */
  messageVersions(messageId: string): Promise<MessageVersion[]>;
  /**
   * The pinned messages of a conversation, newest pin first. Pins change through the log
   * (`pinMessage`/`unpinMessage`); deleting a message for everyone unpins it.
   */
  listPins(conversationId: string): Promise<PinRecord[]>;
  /** The votes on the given polls, by message id (polls without votes are left out). */
  pollVotes(messageIds: string[]): Promise<Map<string, PollVotes>>;
  /** Every vote a user cast (for their export), by poll. */
  listUserVotes(
    userId: string,
  ): Promise<Array<{ messageId: string; optionIds: string[]; at: string }>>;
  /**
   * Live messages that mention `userId` by name or mention everyone, in conversations they are a
   * member of (not their own), newest first, before the cursor (createdAt, id).
   */
  listMentions(
    userId: string,
    options: { limit: number; before?: { createdAt: string; id: string } },
  ): Promise<MessageRecord[]>;
  /** The summaries of the given roots that have replies, by root id. */
  threadSummaries(rootIds: string[]): Promise<Map<string, ThreadSummary>>;
  /** A thread's replies as `viewerId` sees them (as {@link listMessages}, in ascending seq order). */
  listThreadReplies(
    conversationId: string,
    rootId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ): Promise<MessagePage>;
  /**
   * A conversation's threads (roots with at least one reply), latest reply first, with `viewerId`'s
   * unread count: live replies of others after their thread read marker, not deleted for them.
   */
  listThreads(
    conversationId: string,
    viewerId: string,
    options: { limit: number; after?: ThreadCursor },
  ): Promise<ThreadRow[]>;
  /**
   * The threads `userId` follows in conversations they are still a member of, latest reply first
   * (unread counts as in {@link listThreads}). Replying, being mentioned in a reply, and having
   * written the root make a user follow a thread (all in the reply's commit).
   */
  listFollowedThreads(
    userId: string,
    options: { limit: number; after?: ThreadCursor },
  ): Promise<ThreadRow[]>;
  /**
   * Moves a user's read marker in a thread forward; returns the new position, or null when `seq`
   * was not past it.
   */
  advanceThreadMarker(
    conversationId: string,
    rootId: string,
    userId: string,
    seq: number,
  ): Promise<number | null>;
  /** Every thread a user follows or has read in (for their export). */
  listThreadMemberships(userId: string): Promise<ThreadMembership[]>;
}
