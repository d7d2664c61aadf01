import type { SealedText } from "../domain/types.ts";

/** A user's unsent text in a conversation (or one of its threads). */
export interface DraftRecord {
  userId: string;
  conversationId: string;
  /** The thread's root message id; null for the conversation itself. */
  threadId: string | null;
  /** Sealed under the user's data key (erasure shreds it with the key). */
  body: SealedText;
  updatedAt: string;
}

/**
 * Drafts, one per user, conversation and thread. Part of {@link import("./store.ts").Store}.
 */
export interface DraftStore {
  /** Stores the draft, replacing the one at the same place. */
  putDraft(draft: DraftRecord): Promise<void>;
  getDraft(
    userId: string,
    conversationId: string,
    threadId: string | null,
  ): Promise<DraftRecord | null>;
  /** False when there was none. */
  deleteDraft(userId: string, conversationId: string, threadId: string | null): Promise<boolean>;
  /** Every draft of a user (for their export), newest first. */
  listDrafts(userId: string): Promise<DraftRecord[]>;
  /** Deletes every draft of a user (erasure); how many. */
  deleteUserDrafts(userId: string): Promise<number>;
}
