// The tables of the embedded schema and how each row becomes a MongoDB document (one collection
// per table, same names), for tools/migrate_sqlite_to_mongo.ts.
import type { SQLInputValue } from "node:sqlite";
import {
  auditDoc,
  conversationDoc,
  eventDoc,
  memberDoc,
  messageDoc,
  sealedDoc,
  sessionDoc,
  userDoc,
  userKeyDoc,
} from "../src/store/mongo/codec.ts";
import {
  type ActivityDayDoc,
  type DailyCountDoc,
  type DataExportDoc,
  hiddenKey,
  type HiddenMessageDoc,
  type LegalHoldDoc,
  type PinDoc,
  pinKey,
  type PollVoteDoc,
  pollVoteKey,
  type ReactionDoc,
  reactionKey,
  type ReceiptMarkDoc,
  receiptMarkKey,
  type RefreshTokenDoc,
  type SiteSettingDoc,
  type ThreadDoc,
  type ThreadMemberDoc,
  threadMemberKey,
} from "../src/store/mongo/schema.ts";
// The SQLite adapter's own row readers, so a row means here exactly what it means there.
import {
  toConversation,
  toEvent,
  toMember,
  toMessage,
  toSession,
  toUser,
  toUserKey,
} from "../src/store/sqlite/_rows.ts";
import { toMedia } from "../src/store/sqlite/_media.ts";
import { toHeld } from "../src/store/sqlite/_archive.ts";
import { heldDoc } from "../src/store/mongo/_archive.ts";
import { toJob } from "../src/store/sqlite/_jobs.ts";
import { toScheduled } from "../src/store/sqlite/_scheduled.ts";
import { scheduledDoc } from "../src/store/mongo/_scheduled.ts";
import { toDraft } from "../src/store/sqlite/_drafts.ts";
import { draftDoc } from "../src/store/mongo/_drafts.ts";
import {
  toBan,
  toBlock,
  toInvitation,
  toInviteLink,
  toReport,
} from "../src/store/sqlite/_moderation.ts";
import {
  banDoc,
  blockDoc,
  invitationDoc,
  inviteLinkDoc,
  reportDoc,
} from "../src/store/mongo/_moderation.ts";
import {
  toConversationNotify,
  toDelivery,
  toNotificationSettings,
  toSubscription,
} from "../src/store/sqlite/_push.ts";
import {
  conversationNotifyDoc,
  deliveryDoc,
  notificationSettingsDoc,
  subscriptionDoc,
} from "../src/store/mongo/_push.ts";
import type { MediaRecord } from "../src/domain/media.ts";
import type { DailyCounter, ExportStatus } from "../src/domain/privacy.ts";

function mediaDoc(m: MediaRecord): Doc {
  const { id, ...rest } = m;
  return { _id: id, ...rest } as Doc;
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

/** A document as written: every one has our string id. */
export type Doc = { _id: string };

/** How one SQLite table becomes the MongoDB collection of the same name. */
export interface TableSpec {
  table: string;
  /** The primary-key columns: the copy order and the resume position. */
  key: string[];
  toDoc(row: Row): Doc;
}

const text = (v: SQLInputValue) => v as string;
const textOrNull = (v: SQLInputValue) => (v === null || v === undefined ? null : (v as string));

/** Every table of the embedded schema, parents before children. */
export const TABLES: TableSpec[] = [
  {
    table: "users",
    key: ["id"],
    // erasedAt says a completed erasure is complete (else the sweep would resume it once more).
    toDoc: (r) => ({
      ...userDoc(toUser(r), text(r.password_hash)),
      erasedAt: textOrNull(r.erased_at),
    }),
  },
  { table: "sessions", key: ["id"], toDoc: (r) => sessionDoc(toSession(r)) },
  {
    table: "refresh_tokens",
    key: ["hash"],
    toDoc: (r): RefreshTokenDoc => ({
      _id: text(r.hash),
      sessionId: text(r.session_id),
      createdAt: text(r.created_at),
      usedAt: textOrNull(r.used_at),
    }),
  },
  {
    table: "user_keys",
    key: ["id"],
    toDoc: (r) => userKeyDoc(toUserKey(r), textOrNull(r.retired_at)),
  },
  {
    table: "conversations",
    key: ["id"],
    toDoc: (r) => conversationDoc(toConversation(r), textOrNull(r.direct_key)),
  },
  {
    table: "members",
    key: ["conversation_id", "user_id"],
    // lastSentAt: the last send under slow mode, which the member record does not carry.
    toDoc: (r) => ({ ...memberDoc(toMember(r)), lastSentAt: textOrNull(r.last_sent_at) }),
  },
  {
    table: "events",
    key: ["conversation_id", "seq"],
    // seqAt 0: a migrated event is long settled, never a commit in flight.
    toDoc: (r) => eventDoc(toEvent(r), 0),
  },
  { table: "messages", key: ["id"], toDoc: (r) => messageDoc(toMessage(r)) },
  {
    table: "hidden_messages",
    key: ["user_id", "message_id"],
    toDoc: (r): HiddenMessageDoc => ({
      _id: hiddenKey(text(r.user_id), text(r.message_id)),
      userId: text(r.user_id),
      messageId: text(r.message_id),
      conversationId: text(r.conversation_id),
    }),
  },
  {
    table: "reactions",
    key: ["message_id", "user_id", "emoji"],
    toDoc: (r): ReactionDoc => {
      const reaction = {
        messageId: text(r.message_id),
        userId: text(r.user_id),
        emoji: text(r.emoji),
        createdAt: text(r.created_at),
      };
      return { _id: reactionKey(reaction), ...reaction };
    },
  },
  {
    table: "receipt_marks",
    key: ["conversation_id", "user_id", "kind", "seq"],
    toDoc: (r): ReceiptMarkDoc => {
      const mark = {
        conversationId: text(r.conversation_id),
        userId: text(r.user_id),
        kind: text(r.kind) as "read" | "delivered",
        seq: Number(r.seq),
        at: text(r.at),
      };
      return { _id: receiptMarkKey(mark), ...mark };
    },
  },
  { table: "media", key: ["id"], toDoc: (r) => mediaDoc(toMedia(r)) },
  {
    table: "data_exports",
    key: ["id"],
    toDoc: (r): DataExportDoc => ({
      _id: text(r.id),
      userId: text(r.user_id),
      conversationId: textOrNull(r.conversation_id),
      status: text(r.status) as ExportStatus,
      keyId: textOrNull(r.key_id),
      size: r.size === null ? null : Number(r.size),
      failureReason: textOrNull(r.failure_reason),
      leaseOwner: textOrNull(r.lease_owner),
      leaseUntil: textOrNull(r.lease_until),
      createdAt: text(r.created_at),
      updatedAt: text(r.updated_at),
      completedAt: textOrNull(r.completed_at),
      expiresAt: text(r.expires_at),
    }),
  },
  {
    table: "activity_days",
    key: ["day", "user_id"],
    toDoc: (r): ActivityDayDoc => ({
      _id: `${text(r.day)}:${text(r.user_id)}`,
      day: text(r.day),
      userId: text(r.user_id),
    }),
  },
  {
    table: "daily_counts",
    key: ["day", "metric"],
    toDoc: (r): DailyCountDoc => ({
      _id: `${text(r.day)}|${text(r.metric)}`,
      day: text(r.day),
      metric: text(r.metric) as DailyCounter,
      value: Number(r.value),
    }),
  },
  {
    table: "poll_votes",
    key: ["message_id", "user_id", "option_id"],
    toDoc: (r): PollVoteDoc => {
      const vote = {
        messageId: text(r.message_id),
        userId: text(r.user_id),
        optionId: text(r.option_id),
        votedAt: text(r.voted_at),
      };
      return { _id: pollVoteKey(vote), ...vote };
    },
  },
  {
    table: "pins",
    key: ["conversation_id", "message_id"],
    toDoc: (r): PinDoc => ({
      _id: pinKey(text(r.conversation_id), text(r.message_id)),
      conversationId: text(r.conversation_id),
      messageId: text(r.message_id),
      pinnedBy: text(r.pinned_by),
      pinnedAt: text(r.pinned_at),
    }),
  },
  {
    table: "threads",
    key: ["root_id"],
    toDoc: (r): ThreadDoc => ({
      _id: text(r.root_id),
      conversationId: text(r.conversation_id),
      replyCount: Number(r.reply_count),
      lastReplyAt: text(r.last_reply_at),
      lastReplySeq: Number(r.last_reply_seq),
      participantIds: JSON.parse(text(r.participant_ids)),
    }),
  },
  {
    table: "thread_members",
    key: ["user_id", "root_id"],
    toDoc: (r): ThreadMemberDoc => ({
      _id: threadMemberKey(text(r.user_id), text(r.root_id)),
      userId: text(r.user_id),
      rootId: text(r.root_id),
      conversationId: text(r.conversation_id),
      following: Number(r.following) === 1,
      readSeq: Number(r.read_seq),
    }),
  },
  {
    table: "message_edits",
    key: ["message_id", "version"],
    toDoc: (r) => {
      const version = Number(r.version);
      const messageId = text(r.message_id);
      return {
        _id: version === 0 ? `${messageId}:0` : `${messageId}:${text(r.edited_at)}`,
        messageId,
        original: version === 0,
        body: sealedDoc({ keyId: text(r.body_key), blob: r.body as Uint8Array }),
        editedAt: text(r.edited_at),
      };
    },
  },
  {
    table: "drafts",
    key: ["user_id", "conversation_id", "thread_id"],
    toDoc: (r) => draftDoc(toDraft(r)),
  },
  { table: "scheduled_messages", key: ["id"], toDoc: (r) => scheduledDoc(toScheduled(r)) },
  {
    table: "jobs",
    key: ["id"],
    toDoc: (r) => {
      const { id, ...job } = toJob(r);
      return { _id: id, ...job };
    },
  },
  { table: "blocks", key: ["user_id", "blocked_id"], toDoc: (r) => blockDoc(toBlock(r)) },
  { table: "invitations", key: ["id"], toDoc: (r) => invitationDoc(toInvitation(r)) },
  { table: "reports", key: ["id"], toDoc: (r) => reportDoc(toReport(r)) },
  { table: "bans", key: ["conversation_id", "user_id"], toDoc: (r) => banDoc(toBan(r)) },
  { table: "invite_links", key: ["code"], toDoc: (r) => inviteLinkDoc(toInviteLink(r)) },
  {
    table: "push_subscriptions",
    key: ["id"],
    toDoc: (r) => subscriptionDoc(toSubscription(r)),
  },
  {
    table: "push_conversation_prefs",
    key: ["user_id", "conversation_id"],
    toDoc: (r) => conversationNotifyDoc(toConversationNotify(r)),
  },
  {
    table: "notification_settings",
    key: ["user_id"],
    toDoc: (r) => notificationSettingsDoc(toNotificationSettings(r)),
  },
  { table: "push_deliveries", key: ["ack_id"], toDoc: (r) => deliveryDoc(toDelivery(r)) },
  {
    table: "legal_holds",
    key: ["conversation_id"],
    toDoc: (r): LegalHoldDoc => ({
      _id: text(r.conversation_id),
      placedBy: text(r.placed_by),
      placedAt: text(r.placed_at),
      reason: textOrNull(r.reason),
    }),
  },
  // held_media is no table here: MongoDB keeps a held message's media in its document.
  { table: "held_messages", key: ["message_id"], toDoc: (r) => heldDoc(toHeld(r)) },
  // The search index is not copied: it is derived data, and the servers on MongoDB build it from
  // the log (no progress recorded means everything is behind).
  {
    table: "site_settings",
    key: ["key"],
    toDoc: (r): SiteSettingDoc => ({ _id: text(r.key), value: JSON.parse(text(r.value)) }),
  },
  {
    table: "audit_log",
    key: ["id"],
    toDoc: (r) =>
      auditDoc({
        id: text(r.id),
        at: text(r.at),
        action: text(r.action),
        actorId: textOrNull(r.actor_id),
        targetId: textOrNull(r.target_id),
        ip: textOrNull(r.ip),
        userAgent: textOrNull(r.user_agent),
        details: JSON.parse(text(r.details)),
      }),
  },
];
