import type { SealedText } from "../domain/types.ts";

/** A message waiting to be sent at `sendAt` by its author (its job is `scheduled:<id>`). */
export interface ScheduledRecord {
  id: string;
  userId: string;
  conversationId: string;
  /** The key the message will be sent with (idempotent: a retried send is the same message). */
  clientMsgId: string;
  /** The text, sealed under the author's data key (erasure shreds it with the key). */
  body: SealedText | null;
  mediaIds: string[];
  sendAt: string;
  /** `failed` once the send was refused (the author left, lost the right to send…). */
  status: "pending" | "failed";
  failure: { code: string; detail: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** What may change before it is sent. */
export interface ScheduledPatch {
  body?: SealedText | null;
  mediaIds?: string[];
  sendAt?: string;
  updatedAt: string;
}

/** Position in a user's scheduled messages: (sendAt, id) of the last one seen. */
export interface ScheduledCursor {
  sendAt: string;
  id: string;
}

/**
 * Scheduled messages. Part of {@link import("./store.ts").Store}. (user, clientMsgId) is unique, so
 * scheduling again with the same key is answered with the first one.
 */
export interface ScheduledStore {
  /** Stores it; `exists` (with the stored one) when the user already scheduled that clientMsgId. */
  createScheduled(
    record: ScheduledRecord,
  ): Promise<{ status: "created" | "exists"; scheduled: ScheduledRecord }>;
  getScheduled(id: string): Promise<ScheduledRecord | null>;
  /** A user's scheduled messages, soonest first, after the cursor. */
  listScheduled(
    userId: string,
    options: { limit: number; after?: ScheduledCursor },
  ): Promise<ScheduledRecord[]>;
  /** Applies `patch` to a pending one; null when it is gone or no longer pending. */
  updateScheduled(id: string, patch: ScheduledPatch): Promise<ScheduledRecord | null>;
  /** Records why the send was refused; null when it is gone. */
  failScheduled(
    id: string,
    failure: { code: string; detail: string; at: string },
  ): Promise<ScheduledRecord | null>;
  /** Deletes it (sent or cancelled); false when there was none. */
  deleteScheduled(id: string): Promise<boolean>;
  /** Deletes every scheduled message of a user (erasure) and returns their ids. */
  deleteUserScheduled(userId: string): Promise<string[]>;
}
