import type { MessageRecord, SealedText } from "../domain/types.ts";

/** A legal hold on a conversation: who placed it, when and why. */
export interface LegalHold {
  conversationId: string;
  placedBy: string;
  placedAt: string;
  reason: string | null;
}

/**
 * The content of a message deleted while its conversation was on hold: kept out of every user's
 * view, but not erased, until the hold is lifted. `body` is sealed as the message's was (or, for a
 * message whose sender's account was erased, under the hold's own key: see `LegalHolds`).
 */
export interface HeldMessage {
  messageId: string;
  conversationId: string;
  senderId: string | null;
  body: SealedText | null;
  mediaIds: string[];
  replyTo: string | null;
  createdAt: string;
  /** When it was deleted (null while it is only preserved ahead of an erasure). */
  deletedAt: string | null;
}

/** What lifting a hold released: the held messages erased, and the media they alone kept. */
export interface HoldRelease {
  messages: number;
  mediaIds: string[];
}

/**
 * What archiving a conversation needs: every message in seq order, and legal holds with the content
 * they keep. While a conversation is on hold, the store's own erasures of message content (delete for
 * everyone, expiry, an erasure's leftovers) first copy the content into the hold, in the same
 * transaction; retention skips the conversation; held media count as used. Part of
 * {@link import("./store.ts").Store}.
 */
export interface ArchiveStore {
  /**
   * Every message of the conversation with seq above `afterSeq`, in seq order: thread replies,
   * system messages and tombstones included (no viewer's delete-for-me applies).
   */
  archivePage(conversationId: string, afterSeq: number, limit: number): Promise<MessageRecord[]>;

  /** Places a hold (the first one stays when there is one); null when the conversation is gone. */
  placeHold(hold: LegalHold): Promise<LegalHold | null>;
  getHold(conversationId: string): Promise<LegalHold | null>;
  /** Every hold, by conversation id. */
  listHolds(): Promise<LegalHold[]>;
  /** Removes the hold and erases the content it kept; null when there was no hold. */
  liftHold(conversationId: string): Promise<HoldRelease | null>;
  /**
   * Keeps `messages` in the hold of their conversation ahead of an erasure that would make them
   * unreadable (an earlier copy of the same message stays as it is).
   */
  preserveHeld(messages: HeldMessage[]): Promise<void>;
  /** The held content of these messages (of one conversation), by message id. */
  heldMessages(conversationId: string, messageIds: string[]): Promise<Map<string, HeldMessage>>;
}
