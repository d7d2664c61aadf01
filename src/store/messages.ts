import type { MessageRecord, PollVotes, ReactionSummary, SealedText } from "../domain/types.ts";

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
  /** History as `viewerId` sees it (messages they deleted for themselves left out). */
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
}
