import type { MediaRecord } from "../domain/media.ts";
import type { MessageRecord, Session } from "../domain/types.ts";

/** Position in a user's sent messages: (conversationId, seq) of the last one seen. */
export interface SentCursor {
  conversationId: string;
  seq: number;
}

/** Position in a user's reactions: (messageId, emoji) of the last one seen. */
export interface ReactionCursor {
  messageId: string;
  emoji: string;
}

/** One reaction a user made, with the conversation of its message. */
export interface UserReaction {
  messageId: string;
  conversationId: string;
  emoji: string;
  createdAt: string;
}

/** How an account is scrubbed when its erasure begins. */
export interface ErasureStart {
  at: string;
  /** The unusable placeholder that frees the username. */
  username: string;
  displayName: string;
}

/** What the end of an erasure removed in bulk, without events (what the event path could not reach). */
export interface ErasureFinish {
  messages: number;
  reactions: number;
}

/** What one retention batch removed. */
export interface RetentionBatch {
  messages: number;
  /** The removed messages: the caller takes them out of the search index. */
  messageIds: string[];
  events: number;
  /** Media the removed messages carried; the caller deletes those no longer used anywhere. */
  mediaIds: string[];
}

/**
 * The store's part in privacy: what an export reads (a user's sessions, sent messages, reactions and
 * media, paged), what an erasure changes (scrub, crypto-shred, bulk clean-up, physical scrubbing)
 * and retention batches. Part of {@link import("./store.ts").Store}.
 */
export interface PrivacyStore {
  /** Every session of a user, live or not, newest first. */
  allSessions(userId: string): Promise<Session[]>;
  /**
   * The live (not deleted) text and media messages `userId` sent, in every conversation (also
   * deleted ones and ones they left), ordered by (conversationId, seq), after the cursor.
   */
  listSentMessages(
    userId: string,
    options: { limit: number; after?: SentCursor },
  ): Promise<MessageRecord[]>;
  /** The reactions `userId` made, ordered by (messageId, emoji), after the cursor. */
  listUserReactions(
    userId: string,
    options: { limit: number; after?: ReactionCursor },
  ): Promise<UserReaction[]>;
  /** Media uploaded by `ownerId`, by id, after `afterId`. */
  listMediaByOwner(
    ownerId: string,
    options: { limit: number; afterId?: string },
  ): Promise<MediaRecord[]>;

  /**
   * Starts an erasure in one atomic step: marks the account deleted (keeping the first `deletedAt`),
   * replaces username and display name, clears avatar, status, last seen, role and password,
   * destroys every data key of the user (crypto-shredding) and deletes their sessions and refresh
   * tokens. Returns the destroyed key ids; null when there is no such user. Idempotent.
   */
  beginErasure(userId: string, start: ErasureStart): Promise<{ keyIds: string[] } | null>;
  /**
   * Ends an erasure: erases (without events) what is still live of the user's sent messages, deletes
   * their remaining reactions, hidden-message marks and sessions, and records the erasure as
   * complete. Memberships are not touched: the caller leaves conversations with events first (which
   * also drops the user's receipt marks there).
   */
  finishErasure(userId: string, at: string): Promise<ErasureFinish>;
  /** Users whose erasure began before `before` and never completed (crash recovery), oldest first. */
  pendingErasures(before: string, limit: number): Promise<string[]>;
  /**
   * Makes data deleted so far physically unrecoverable from the store's own files where the engine
   * allows it (SQLite: deleted content is zeroed by `secure_delete`; this checkpoints and truncates the
   * WAL so no older page image remains).
   */
  scrub(): Promise<void>;

  /** Live conversations with a retention period, by id, after `afterId`. */
  retentionConversations(
    options: { limit: number; afterId?: string },
  ): Promise<Array<{ id: string; retentionDays: number }>>;
  /**
   * Removes up to `limit` of the conversation's oldest messages (any kind) created before `cutoff`,
   * in seq order, stopping at the first newer one; with them every event at or below the last removed
   * seq, every later event pointing at a removed message, their reactions, media references and
   * hidden marks.
   */
  sweepRetention(conversationId: string, cutoff: string, limit: number): Promise<RetentionBatch>;
}
