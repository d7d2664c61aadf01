import type { AppError } from "../domain/errors.ts";
import type {
  DurableEventName,
  EventRecord,
  GroupSettings,
  Member,
  MemberRole,
  MessageRecord,
  SealedText,
  SystemInfo,
} from "../domain/types.ts";
import type { NewJob } from "./jobs.ts";

/**
 * A condition checked inside the commit, atomically with the write. When it does not hold, the commit
 * is abandoned and `error` is thrown, so a service never acts on a stale read. The service chooses
 * the error (and so its wording).
 */
export type Expectation =
  | { kind: "member"; userId: string; roles?: MemberRole[]; error: AppError }
  | { kind: "message"; messageId: string; senderId?: string; live?: boolean; error: AppError }
  /** Checked after the mutations: the conversation has at most `max` members. */
  | { kind: "memberLimit"; max: number; error: AppError }
  /** Checked after the mutations: the conversation has at most `max` pinned messages. */
  | { kind: "pinLimit"; max: number; error: AppError }
  /**
   * Slow mode: `userId` sent nothing here after `since` (under slow mode); the commit records `at` as
   * their last send, so of concurrent sends exactly one passes per interval.
   */
  | { kind: "slowMode"; userId: string; since: string; at: string; error: AppError }
  /** `userId` is not banned from the conversation at `at` (a ban without `until`, or until later). */
  | { kind: "notBanned"; userId: string; at: string; error: AppError }
  /**
   * Takes one use of invite link `code` of this conversation: it exists, is not revoked, has not
   * expired at `at` and has uses left; the commit counts the use, so concurrent joins never overshoot.
   */
  | { kind: "inviteUse"; code: string; at: string; error: AppError };

/** One state change made in the same commit as its event. */
export type Mutation =
  | { op: "insertMessage"; message: Omit<MessageRecord, "seq"> }
  | { op: "editMessage"; messageId: string; body: SealedText; editedAt: string }
  | { op: "eraseMessage"; messageId: string; deletedAt: string }
  | { op: "addReaction"; messageId: string; userId: string; emoji: string; at: string }
  | { op: "removeReaction"; messageId: string; userId: string; emoji: string }
  | { op: "addMembers"; members: Member[] }
  | { op: "removeMember"; userId: string }
  | { op: "setRole"; userId: string; role: MemberRole }
  /** A moderator's timed mute of a member (null lifts it). */
  | { op: "setSilenced"; userId: string; until: string | null }
  | { op: "updateConversation"; patch: ConversationPatch }
  | { op: "deleteConversation"; at: string }
  /** Marks a live poll closed (no change when it already is). */
  | { op: "closePoll"; messageId: string }
  /** Replaces `userId`'s votes on a live poll with `optionIds` (empty: no vote). */
  | { op: "setVotes"; messageId: string; userId: string; optionIds: string[]; at: string }
  /** Pins a live message of the conversation (no change when it is pinned already). */
  | { op: "pinMessage"; messageId: string; userId: string; at: string }
  | { op: "unpinMessage"; messageId: string }
  /** Moves the user's read and delivered markers up to this event (a sender has read what they sent). */
  | { op: "readUpTo"; userId: string };

/** Group info that may change. */
export interface ConversationPatch {
  name?: string;
  description?: string | null;
  avatarMediaId?: string | null;
  settings?: GroupSettings;
  retentionDays?: number | null;
}

/**
 * One durable change to a conversation: its mutations and event commit together, and the event takes
 * the next `seq`. With `idempotency`, a second commit with the same (sender, clientMsgId) changes
 * nothing and returns the first message (which may be in another conversation: the caller decides).
 */
export interface Change {
  conversationId: string;
  event: DurableEventName;
  actorId: string | null;
  messageId?: string;
  data?: Record<string, unknown>;
  mutations: Mutation[];
  expect?: Expectation[];
  idempotency?: { senderId: string; clientMsgId: string };
  /** Records a system message with id `messageId` at the event's seq (who did what to whom). */
  system?: SystemInfo;
  /** Jobs this change causes (a message's expiry…), stored in the same commit, or not at all. */
  jobs?: NewJob[];
  at: string;
}

/** The result of {@link LogStore.commit}. */
export type CommitResult =
  | { status: "committed"; event: EventRecord; message: MessageRecord | null }
  | { status: "duplicate"; message: MessageRecord }
  /** Nothing changed (e.g. a reaction that was already there), so no event was written. */
  | { status: "unchanged" }
  /** The conversation does not exist (or was deleted): nothing was written. */
  | { status: "missing" };

/** A page of the event log with the messages its events point at. */
export interface EventPage {
  events: EventRecord[];
  messages: Map<string, MessageRecord>;
  hasMore: boolean;
}

/**
 * The per-conversation event log: every durable change commits here with its event. Part of
 * {@link import("./store.ts").Store}; only `EventLog` (src/services/events.ts) calls `commit`.
 *
 * Guarantees: `commit` assigns each conversation's events gap-free, strictly increasing seqs in
 * commit order (an adapter without transactions may leave a gap, never a duplicate); (sender,
 * clientMsgId) is unique.
 */
export interface LogStore {
  /**
   * How long, in milliseconds, a seq may be missing below a committed one before readers may take
   * it for a hole (a write that never committed): 0 with transactions; for an adapter without them,
   * the time it holds events back behind a seq that may still be committing. A reader that waits
   * for a missing seq must wait longer than this before skipping it.
   */
  readonly holeSettleMs: number;
  /** Applies one durable change atomically with its event (see {@link Change}). */
  commit(change: Change): Promise<CommitResult>;
  /**
   * The durable events after `after`, in seq order. Never returns an event while a lower seq may
   * still be committing (an adapter without transactions stops before such a hole and reports no
   * more pages), so a reader that advances past what it got never skips an event for good.
   */
  listEvents(conversationId: string, options: { after: number; limit: number }): Promise<EventPage>;
  /**
   * The conversations a user is a member of, with their heads, for the socket's `ready`. A head is a
   * seq at or below which every event is readable through `listEvents` (with transactions, the last
   * seq; without, the last one with nothing still committing below it).
   */
  conversationHeads(userId: string): Promise<Array<{ id: string; lastSeq: number }>>;
}
