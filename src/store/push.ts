import type { SealedText } from "../domain/types.ts";

export type PushSubscriptionKind = "webpush" | "fcm" | "apns";

/** One device's (session's) way to be reached while it has no socket. */
export interface PushSubscriptionRecord {
  id: string;
  userId: string;
  sessionId: string;
  kind: PushSubscriptionKind;
  /**
   * Where to push, sealed under the user's data key (erasure shreds it): JSON `{endpoint, keys}` for
   * Web Push, `{token}` for FCM and APNs. Both are capabilities to reach the device.
   */
  target: SealedText;
  /** HMAC of the endpoint or token: the same device subscribing again replaces, not duplicates. */
  fingerprint: string;
  createdAt: string;
}

/** How much of a conversation reaches a user by push. */
export type NotifyLevel = "all" | "mentions" | "none";

/** A user's push preferences for one conversation (defaults apply where there is none). */
export interface ConversationNotifyRecord {
  userId: string;
  conversationId: string;
  /** null: the default (all in direct conversations and groups below 100 members, else mentions). */
  notify: NotifyLevel | null;
  mutedUntil: string | null;
  updatedAt: string;
}

/** What a push shows: the sender and text, only the sender, or nothing but that there is a message. */
export type PreviewLevel = "full" | "sender" | "none";

/** A user's push settings. */
export interface NotificationSettingsRecord {
  userId: string;
  preview: PreviewLevel;
  quietHours: { start: string; end: string; timeZone: string } | null;
  /** JSON array of words that notify like a mention, sealed under the user's data key. */
  keywords: SealedText | null;
  updatedAt: string;
}

export type PushDeliveryKind = "message" | "read" | "test";

/**
 * One push to one session for one cause: the unique (kind, conversation, seq, session) is what makes
 * each push happen once across instances, retries and crashes.
 */
export interface PushDeliveryRecord {
  /** Random, carried in the payload, and acknowledged by the client that showed it. */
  ackId: string;
  userId: string;
  sessionId: string;
  subscriptionId: string;
  provider: PushSubscriptionKind;
  kind: PushDeliveryKind;
  /** Empty for a test push. */
  conversationId: string;
  seq: number;
  status: "pending" | "sent" | "failed";
  createdAt: string;
  sentAt: string | null;
  ackedAt: string | null;
}

/**
 * Push subscriptions, preferences and the record of pushes sent. Part of
 * {@link import("./store.ts").Store}. Revoking or deleting a session deletes its subscriptions in the
 * same write (a revoked device must not be reached).
 */
export interface PushStore {
  /**
   * Stores a subscription; when the session already has one with the same fingerprint, that one is
   * kept (its sealed target replaced) and returned.
   */
  putSubscription(s: PushSubscriptionRecord): Promise<PushSubscriptionRecord>;
  getSubscription(id: string): Promise<PushSubscriptionRecord | null>;
  /** A user's subscriptions, oldest first. */
  listSubscriptions(userId: string): Promise<PushSubscriptionRecord[]>;
  /**
   * Whether any member of the conversation but `exceptUserId` has a subscription: a send enqueues a
   * push job only then.
   */
  hasSubscribers(conversationId: string, exceptUserId: string): Promise<boolean>;
  /** The subscriptions of any of `userIds` (the recipients of a message). */
  subscriptionsOf(userIds: string[]): Promise<PushSubscriptionRecord[]>;
  /** False when the user has no such subscription. */
  deleteSubscription(userId: string, id: string): Promise<boolean>;

  putConversationNotify(r: ConversationNotifyRecord): Promise<void>;
  /** The user's preferences for these conversations (absent where none was set). */
  conversationNotify(
    userId: string,
    conversationIds: string[],
  ): Promise<Map<string, ConversationNotifyRecord>>;
  /** Every user's preferences for one conversation (the recipients of a message). */
  notifyOfConversation(conversationId: string): Promise<ConversationNotifyRecord[]>;

  putNotificationSettings(r: NotificationSettingsRecord): Promise<void>;
  notificationSettings(userIds: string[]): Promise<Map<string, NotificationSettingsRecord>>;

  /**
   * Records a push about to be sent. `exists` (with the earlier record) when one was already recorded
   * for the same kind, conversation, seq and session: the caller sends only what is still `pending`.
   */
  claimDelivery(
    d: PushDeliveryRecord,
  ): Promise<{ status: "claimed" } | { status: "exists"; delivery: PushDeliveryRecord }>;
  markDelivery(ackId: string, status: "sent" | "failed", at: string): Promise<void>;
  /** Marks a push shown by its user's client; false when unknown, another user's, or acked before. */
  ackDelivery(userId: string, ackId: string, at: string): Promise<PushDeliveryRecord | null>;
  /** Sessions a message push went to in a conversation up to `seq` (to clear them after a read). */
  sentSessions(userId: string, conversationId: string, upToSeq: number): Promise<string[]>;
  /** Deletes delivery records created before `before`; how many. */
  pruneDeliveries(before: string): Promise<number>;

  /** Everything of a user (their export). */
  userPushData(userId: string): Promise<{
    subscriptions: PushSubscriptionRecord[];
    conversations: ConversationNotifyRecord[];
    settings: NotificationSettingsRecord | null;
  }>;
  /** Deletes everything of a user (erasure); how many rows. */
  deleteUserPushData(userId: string): Promise<number>;
}
