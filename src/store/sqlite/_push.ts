import type {
  ConversationNotifyRecord,
  NotificationSettingsRecord,
  NotifyLevel,
  PreviewLevel,
  PushDeliveryRecord,
  PushStore,
  PushSubscriptionKind,
  PushSubscriptionRecord,
} from "../push.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** Maps a `push_subscriptions` row. */
export function toSubscription(r: Row): PushSubscriptionRecord {
  return {
    id: str(r.id),
    userId: str(r.user_id),
    sessionId: str(r.session_id),
    kind: str(r.kind) as PushSubscriptionKind,
    target: { keyId: str(r.target_key), blob: bytes(r.target) },
    fingerprint: str(r.fingerprint),
    createdAt: str(r.created_at),
  };
}

/** Maps a `push_conversation_prefs` row. */
export function toConversationNotify(r: Row): ConversationNotifyRecord {
  return {
    userId: str(r.user_id),
    conversationId: str(r.conversation_id),
    notify: strOrNull(r.notify) as NotifyLevel | null,
    mutedUntil: strOrNull(r.muted_until),
    updatedAt: str(r.updated_at),
  };
}

/** Maps a `notification_settings` row. */
export function toNotificationSettings(r: Row): NotificationSettingsRecord {
  const quiet = strOrNull(r.quiet_hours);
  const keywordsKey = strOrNull(r.keywords_key);
  return {
    userId: str(r.user_id),
    preview: str(r.preview) as PreviewLevel,
    quietHours: quiet ? JSON.parse(quiet) : null,
    keywords: keywordsKey ? { keyId: keywordsKey, blob: bytes(r.keywords) } : null,
    updatedAt: str(r.updated_at),
  };
}

/** Maps a `push_deliveries` row. */
export function toDelivery(r: Row): PushDeliveryRecord {
  return {
    ackId: str(r.ack_id),
    userId: str(r.user_id),
    sessionId: str(r.session_id),
    subscriptionId: str(r.subscription_id),
    provider: str(r.provider) as PushSubscriptionKind,
    kind: str(r.kind) as PushDeliveryRecord["kind"],
    conversationId: str(r.conversation_id),
    seq: num(r.seq),
    status: str(r.status) as PushDeliveryRecord["status"],
    createdAt: str(r.created_at),
    sentAt: strOrNull(r.sent_at),
    ackedAt: strOrNull(r.acked_at),
  };
}

function putSubscription(db: Db, s: PushSubscriptionRecord): PushSubscriptionRecord {
  const row = db.get(
    `INSERT INTO push_subscriptions
       (id, user_id, session_id, kind, fingerprint, target, target_key, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id, fingerprint)
     DO UPDATE SET target = excluded.target, target_key = excluded.target_key
     RETURNING *`,
    s.id,
    s.userId,
    s.sessionId,
    s.kind,
    s.fingerprint,
    s.target.blob,
    s.target.keyId,
    s.createdAt,
  );
  return toSubscription(row!);
}

function getSubscription(db: Db, id: string): PushSubscriptionRecord | null {
  const r = db.get("SELECT * FROM push_subscriptions WHERE id = ?", id);
  return r ? toSubscription(r) : null;
}

function listSubscriptions(db: Db, userId: string): PushSubscriptionRecord[] {
  return db.all(
    "SELECT * FROM push_subscriptions WHERE user_id = ? ORDER BY created_at, id",
    userId,
  ).map(toSubscription);
}

function subscriptionsOf(db: Db, userIds: string[]): PushSubscriptionRecord[] {
  const out: PushSubscriptionRecord[] = [];
  for (let i = 0; i < userIds.length; i += 500) {
    const ids = userIds.slice(i, i + 500);
    out.push(
      ...db.all(
        `SELECT * FROM push_subscriptions WHERE user_id IN (${placeholders(ids.length)})
         ORDER BY created_at, id`,
        ...ids,
      ).map(toSubscription),
    );
  }
  return out;
}

function hasSubscribers(db: Db, conversationId: string, exceptUserId: string): boolean {
  return db.get(
    `SELECT 1 AS found FROM members m
     WHERE m.conversation_id = ? AND m.user_id != ?
       AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = m.user_id)
     LIMIT 1`,
    conversationId,
    exceptUserId,
  ) !== undefined;
}

function conversationNotify(
  db: Db,
  userId: string,
  conversationIds: string[],
): Map<string, ConversationNotifyRecord> {
  const out = new Map<string, ConversationNotifyRecord>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const ids = conversationIds.slice(i, i + 500);
    for (
      const r of db.all(
        `SELECT * FROM push_conversation_prefs
         WHERE user_id = ? AND conversation_id IN (${placeholders(ids.length)})`,
        userId,
        ...ids,
      )
    ) out.set(str(r.conversation_id), toConversationNotify(r));
  }
  return out;
}

function notifyOfConversation(db: Db, conversationId: string): ConversationNotifyRecord[] {
  return db.all("SELECT * FROM push_conversation_prefs WHERE conversation_id = ?", conversationId)
    .map(toConversationNotify);
}

function notificationSettings(
  db: Db,
  userIds: string[],
): Map<string, NotificationSettingsRecord> {
  const out = new Map<string, NotificationSettingsRecord>();
  for (let i = 0; i < userIds.length; i += 500) {
    const ids = userIds.slice(i, i + 500);
    for (
      const r of db.all(
        `SELECT * FROM notification_settings WHERE user_id IN (${placeholders(ids.length)})`,
        ...ids,
      )
    ) out.set(str(r.user_id), toNotificationSettings(r));
  }
  return out;
}

function sentSessions(db: Db, userId: string, conversationId: string, upToSeq: number): string[] {
  return db.all(
    `SELECT DISTINCT session_id FROM push_deliveries
     WHERE user_id = ? AND conversation_id = ? AND seq <= ? AND kind = 'message' AND status = 'sent'`,
    userId,
    conversationId,
    upToSeq,
  ).map((r) => str(r.session_id));
}

function userPushData(db: Db, userId: string) {
  const settings = db.get("SELECT * FROM notification_settings WHERE user_id = ?", userId);
  return {
    subscriptions: listSubscriptions(db, userId),
    conversations: db.all(
      "SELECT * FROM push_conversation_prefs WHERE user_id = ? ORDER BY conversation_id",
      userId,
    ).map(toConversationNotify),
    settings: settings ? toNotificationSettings(settings) : null,
  };
}

/** The push writes, run on the writer thread (see `_writes.ts`). */
export const pushWrites = {
  putSubscription,
  deleteSubscription: (db: Db, userId: string, id: string) =>
    db.run("DELETE FROM push_subscriptions WHERE id = ? AND user_id = ?", id, userId) > 0,
  putConversationNotify(db: Db, r: ConversationNotifyRecord): void {
    db.run(
      `INSERT INTO push_conversation_prefs (user_id, conversation_id, notify, muted_until, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, conversation_id) DO UPDATE SET notify = excluded.notify,
         muted_until = excluded.muted_until, updated_at = excluded.updated_at`,
      r.userId,
      r.conversationId,
      r.notify,
      r.mutedUntil,
      r.updatedAt,
    );
  },
  putNotificationSettings(db: Db, r: NotificationSettingsRecord): void {
    db.run(
      `INSERT INTO notification_settings
         (user_id, preview, quiet_hours, keywords, keywords_key, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET preview = excluded.preview,
         quiet_hours = excluded.quiet_hours, keywords = excluded.keywords,
         keywords_key = excluded.keywords_key, updated_at = excluded.updated_at`,
      r.userId,
      r.preview,
      r.quietHours ? JSON.stringify(r.quietHours) : null,
      r.keywords?.blob ?? null,
      r.keywords?.keyId ?? null,
      r.updatedAt,
    );
  },
  claimDelivery(
    db: Db,
    d: PushDeliveryRecord,
  ): { status: "claimed" } | { status: "exists"; delivery: PushDeliveryRecord } {
    const inserted = db.run(
      `INSERT INTO push_deliveries (ack_id, user_id, session_id, subscription_id, provider, kind,
         conversation_id, seq, status, created_at, sent_at, acked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
       ON CONFLICT (kind, conversation_id, seq, session_id) DO NOTHING`,
      d.ackId,
      d.userId,
      d.sessionId,
      d.subscriptionId,
      d.provider,
      d.kind,
      d.conversationId,
      d.seq,
      d.status,
      d.createdAt,
    );
    if (inserted > 0) return { status: "claimed" };
    const r = db.get(
      `SELECT * FROM push_deliveries
       WHERE kind = ? AND conversation_id = ? AND seq = ? AND session_id = ?`,
      d.kind,
      d.conversationId,
      d.seq,
      d.sessionId,
    );
    return { status: "exists", delivery: toDelivery(r!) };
  },
  markDelivery(db: Db, ackId: string, status: "sent" | "failed", at: string): void {
    db.run(
      `UPDATE push_deliveries SET status = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
       WHERE ack_id = ?`,
      status,
      status,
      at,
      ackId,
    );
  },
  ackDelivery(db: Db, userId: string, ackId: string, at: string): PushDeliveryRecord | null {
    const r = db.get(
      `UPDATE push_deliveries SET acked_at = ? WHERE ack_id = ? AND user_id = ? AND acked_at IS NULL
       RETURNING *`,
      at,
      ackId,
      userId,
    );
    return r ? toDelivery(r) : null;
  },
  pruneDeliveries: (db: Db, before: string) =>
    db.run("DELETE FROM push_deliveries WHERE created_at < ?", before),
  deleteUserPushData(db: Db, userId: string): number {
    let n = 0;
    for (
      const table of [
        "push_subscriptions",
        "push_conversation_prefs",
        "notification_settings",
        "push_deliveries",
      ]
    ) n += db.run(`DELETE FROM ${table} WHERE user_id = ?`, userId);
    return n;
  },
};

/** The SQLite {@link PushStore}. */
export function sqlitePush(db: Db, writer: Writer): PushStore {
  return {
    ...bindReads(db, {
      getSubscription,
      listSubscriptions,
      subscriptionsOf,
      hasSubscribers,
      conversationNotify,
      notifyOfConversation,
      notificationSettings,
      sentSessions,
      userPushData,
    }),
    ...bindWrites(writer, pushWrites),
  };
}
