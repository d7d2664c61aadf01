import type { SealedText } from "../domain/types.ts";

/** One user blocking another. */
export interface BlockRecord {
  userId: string;
  blockedId: string;
  createdAt: string;
}

export type InvitationStatus = "pending" | "accepted" | "declined";

/** An invitation to a group, made when the adder may not add the invitee directly. */
export interface InvitationRecord {
  id: string;
  conversationId: string;
  inviterId: string;
  inviteeId: string;
  status: InvitationStatus;
  createdAt: string;
  /** When it was accepted or declined. */
  answeredAt: string | null;
}

export type ReportReason = "spam" | "abuse" | "illegal" | "other";

/** A user's report of a message or a user, with a sealed copy of the message as evidence. */
export interface ReportRecord {
  id: string;
  /** Null once the reporter's account was erased. */
  reporterId: string | null;
  reason: ReportReason;
  /** The reporter's note, sealed (null when none, or once the reporter was erased). */
  note: SealedText | null;
  conversationId: string | null;
  messageId: string | null;
  /** The reported user: named by the reporter, or the sender of the reported message. */
  userId: string | null;
  /** The reported message as it was when reported (JSON, sealed under the moderation key). */
  evidence: SealedText | null;
  status: "open" | "resolved";
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

/** A user banned from a conversation (until a time, or until lifted). */
export interface BanRecord {
  conversationId: string;
  userId: string;
  bannedBy: string;
  /** The moderator's reason, sealed under the moderation key. */
  reason: SealedText | null;
  until: string | null;
  createdAt: string;
}

/** An invite link to a group. */
export interface InviteLinkRecord {
  code: string;
  conversationId: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

/** Where a report list page starts: after this (createdAt, id), newest first. */
export interface ReportCursor {
  createdAt: string;
  id: string;
}

/** Where a discovery page starts: after this (name fold, id). */
export interface DiscoverCursor {
  name: string;
  id: string;
}

/**
 * Safety and moderation state: blocks, invitations, reports, conversation bans, invite links and
 * the site's blocked words. Part of {@link import("./store.ts").Store}. (Suspension lives on the
 * account; member mutes and slow mode on the membership; invite link uses and ban checks are
 * expectations of the join's commit.)
 */
export interface ModerationStore {
  /** Records that `userId` blocks `blockedId`; false when they already did. */
  putBlock(block: BlockRecord): Promise<boolean>;
  /** Lifts a block; false when there was none. */
  deleteBlock(userId: string, blockedId: string): Promise<boolean>;
  /** The users `userId` blocks, newest first. */
  listBlocks(userId: string): Promise<BlockRecord[]>;
  /** The users who block `userId`. */
  listBlockers(userId: string): Promise<string[]>;
  /** Of `others`, those who block `userId` or whom `userId` blocks. */
  blocksBetween(
    userId: string,
    others: string[],
  ): Promise<{ blocking: Set<string>; blockedBy: Set<string> }>;

  /** Stores an invitation; a pending one for the same conversation and invitee is returned instead. */
  createInvitation(invitation: InvitationRecord): Promise<InvitationRecord>;
  getInvitation(id: string): Promise<InvitationRecord | null>;
  /** A user's pending invitations, newest first. */
  listInvitations(inviteeId: string): Promise<InvitationRecord[]>;
  /** Answers a pending invitation; false when it was not pending. */
  answerInvitation(id: string, status: "accepted" | "declined", at: string): Promise<boolean>;

  createReport(report: ReportRecord): Promise<void>;
  getReport(id: string): Promise<ReportRecord | null>;
  /** Reports with `status`, newest first. */
  listReports(
    status: "open" | "resolved",
    options: { limit: number; after?: ReportCursor },
  ): Promise<ReportRecord[]>;
  /** Every report a user filed (for their export). */
  listReportsBy(reporterId: string): Promise<ReportRecord[]>;
  /** Sets a report's status and resolution; false when there is no such report. */
  resolveReport(
    id: string,
    patch: { status: "open" | "resolved"; resolution: string | null; by: string; at: string },
  ): Promise<boolean>;

  /** Bans (or re-bans, replacing reason and until) a user from a conversation. */
  putBan(ban: BanRecord): Promise<void>;
  /** Lifts a ban; false when there was none. */
  deleteBan(conversationId: string, userId: string): Promise<boolean>;
  getBan(conversationId: string, userId: string): Promise<BanRecord | null>;
  /** A conversation's bans, newest first. */
  listBans(conversationId: string): Promise<BanRecord[]>;

  createInviteLink(link: InviteLinkRecord): Promise<void>;
  getInviteLink(code: string): Promise<InviteLinkRecord | null>;
  /** A conversation's links that are not revoked, newest first. */
  listInviteLinks(conversationId: string): Promise<InviteLinkRecord[]>;
  /** Revokes a link of the conversation; false when there is none or it was revoked already. */
  revokeInviteLink(conversationId: string, code: string, at: string): Promise<boolean>;

  /** Public groups whose folded name contains `query` (all when empty), by name. */
  discoverGroups(
    options: { query: string; limit: number; after?: DiscoverCursor },
  ): Promise<Array<{ id: string; nameFold: string }>>;

  /** The site's blocked words. */
  siteBlockedWords(): Promise<string[]>;
  setSiteBlockedWords(words: string[]): Promise<void>;

  /**
   * Retention: removes reports resolved before `reportsResolvedBefore`, invitations answered before
   * `invitationsAnsweredBefore`, and invite links and bans that ended (expired, revoked, or their
   * `until` passed) before `endedBefore`. Returns how many records went.
   */
  purgeModeration(cutoffs: {
    reportsResolvedBefore: string;
    invitationsAnsweredBefore: string;
    endedBefore: string;
  }): Promise<number>;

  /**
   * A user's erasure: their blocks (both ways), invitations (sent and received) and bans go; their
   * reports stay for the admins without reporter or note.
   */
  eraseUser(userId: string): Promise<void>;
}
