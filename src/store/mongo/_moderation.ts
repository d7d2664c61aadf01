import type {
  BanRecord,
  BlockRecord,
  DiscoverCursor,
  InvitationRecord,
  InviteLinkRecord,
  ModerationStore,
  ReportCursor,
  ReportRecord,
} from "../moderation.ts";
import { isDuplicateKey, type Mongo } from "./_db.ts";
import { sealedDoc, sealedOrNull } from "./codec.ts";
import {
  type BanDoc,
  banKey,
  type BlockDoc,
  blockKey,
  type InvitationDoc,
  type InviteLinkDoc,
  type ReportDoc,
} from "./schema.ts";

// Documents of the moderation collections and back: exactly the stored fields, sealed texts' bytes
// in a Binary (as a message's body). The builders are also used by the SQLite → MongoDB migration.

export function blockDoc(b: BlockRecord): BlockDoc {
  return {
    _id: blockKey(b.userId, b.blockedId),
    userId: b.userId,
    blockedId: b.blockedId,
    createdAt: b.createdAt,
  };
}

export function toBlock(d: BlockDoc): BlockRecord {
  return { userId: d.userId, blockedId: d.blockedId, createdAt: d.createdAt };
}

export function invitationDoc(i: InvitationRecord): InvitationDoc {
  return {
    _id: i.id,
    conversationId: i.conversationId,
    inviterId: i.inviterId,
    inviteeId: i.inviteeId,
    status: i.status,
    createdAt: i.createdAt,
    answeredAt: i.answeredAt,
  };
}

export function toInvitation(d: InvitationDoc): InvitationRecord {
  return {
    id: d._id,
    conversationId: d.conversationId,
    inviterId: d.inviterId,
    inviteeId: d.inviteeId,
    status: d.status,
    createdAt: d.createdAt,
    answeredAt: d.answeredAt,
  };
}

export function reportDoc(r: ReportRecord): ReportDoc {
  return {
    _id: r.id,
    reporterId: r.reporterId,
    reason: r.reason,
    note: r.note ? sealedDoc(r.note) : null,
    conversationId: r.conversationId,
    messageId: r.messageId,
    userId: r.userId,
    evidence: r.evidence ? sealedDoc(r.evidence) : null,
    status: r.status,
    resolution: r.resolution,
    resolvedBy: r.resolvedBy,
    resolvedAt: r.resolvedAt,
    createdAt: r.createdAt,
  };
}

export function toReport(d: ReportDoc): ReportRecord {
  return {
    id: d._id,
    reporterId: d.reporterId,
    reason: d.reason,
    note: sealedOrNull(d.note),
    conversationId: d.conversationId,
    messageId: d.messageId,
    userId: d.userId,
    evidence: sealedOrNull(d.evidence),
    status: d.status,
    resolution: d.resolution,
    resolvedBy: d.resolvedBy,
    resolvedAt: d.resolvedAt,
    createdAt: d.createdAt,
  };
}

export function banDoc(b: BanRecord): BanDoc {
  return {
    _id: banKey(b.conversationId, b.userId),
    conversationId: b.conversationId,
    userId: b.userId,
    bannedBy: b.bannedBy,
    reason: b.reason ? sealedDoc(b.reason) : null,
    until: b.until,
    createdAt: b.createdAt,
  };
}

export function toBan(d: BanDoc): BanRecord {
  return {
    conversationId: d.conversationId,
    userId: d.userId,
    bannedBy: d.bannedBy,
    reason: sealedOrNull(d.reason),
    until: d.until,
    createdAt: d.createdAt,
  };
}

export function inviteLinkDoc(l: InviteLinkRecord): InviteLinkDoc {
  return {
    _id: l.code,
    conversationId: l.conversationId,
    createdBy: l.createdBy,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    maxUses: l.maxUses,
    uses: l.uses,
    revokedAt: l.revokedAt,
  };
}

export function toInviteLink(d: InviteLinkDoc): InviteLinkRecord {
  return {
    code: d._id,
    conversationId: d.conversationId,
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
    maxUses: d.maxUses,
    uses: d.uses,
    revokedAt: d.revokedAt,
  };
}

/** The `site_settings` key of the site's blocked words. */
export const SITE_BLOCKED_WORDS = "blockedWords";

/** One upsert that inserts only a missing block (its `_id` is the pair): true when it did. */
async function putBlock(m: Mongo, b: BlockRecord): Promise<boolean> {
  const { _id, ...fields } = blockDoc(b);
  const r = await m.blocks.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true });
  return r.upsertedCount > 0;
}

async function deleteBlock(m: Mongo, userId: string, blockedId: string): Promise<boolean> {
  return (await m.blocks.deleteOne({ _id: blockKey(userId, blockedId) })).deletedCount > 0;
}

async function listBlocks(m: Mongo, userId: string): Promise<BlockRecord[]> {
  const docs = await m.blocks.find({ userId }).sort({ createdAt: -1, blockedId: 1 }).toArray();
  return docs.map(toBlock);
}

async function listBlockers(m: Mongo, userId: string): Promise<string[]> {
  const docs = await m.blocks.find({ blockedId: userId }, { projection: { userId: 1 } })
    .sort({ userId: 1 }).toArray();
  return docs.map((d) => d.userId);
}

async function blocksBetween(
  m: Mongo,
  userId: string,
  others: string[],
): Promise<{ blocking: Set<string>; blockedBy: Set<string> }> {
  const out = { blocking: new Set<string>(), blockedBy: new Set<string>() };
  if (others.length === 0) return out;
  const docs = await m.blocks.find(
    {
      $or: [
        { userId, blockedId: { $in: others } },
        { blockedId: userId, userId: { $in: others } },
      ],
    },
    { projection: { userId: 1, blockedId: 1 } },
  ).toArray();
  for (const d of docs) {
    if (d.userId === userId) out.blocking.add(d.blockedId);
    else out.blockedBy.add(d.userId);
  }
  return out;
}

/**
 * Inserts it as pending; the unique partial index on pending (conversationId, inviteeId) answers a
 * clash, race-free, with the pending one stored. When that one was answered between the clash and
 * the read, the insert is tried again; a duplicate key with no pending one (the same id) is an error.
 */
async function createInvitation(m: Mongo, inv: InvitationRecord): Promise<InvitationRecord> {
  const doc = invitationDoc({ ...inv, status: "pending", answeredAt: null });
  for (let attempt = 1;; attempt++) {
    try {
      await m.invitations.insertOne(doc);
      return toInvitation(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const pending = await m.invitations.findOne({
        conversationId: inv.conversationId,
        inviteeId: inv.inviteeId,
        status: "pending",
      });
      if (pending) return toInvitation(pending);
      if (attempt >= 3) throw err;
    }
  }
}

async function getInvitation(m: Mongo, id: string): Promise<InvitationRecord | null> {
  const d = await m.invitations.findOne({ _id: id });
  return d ? toInvitation(d) : null;
}

async function listInvitations(m: Mongo, inviteeId: string): Promise<InvitationRecord[]> {
  const docs = await m.invitations.find({ inviteeId, status: "pending" })
    .sort({ createdAt: -1, _id: -1 }).toArray();
  return docs.map(toInvitation);
}

/** One conditional update: only a pending invitation is answered. */
async function answerInvitation(
  m: Mongo,
  id: string,
  status: "accepted" | "declined",
  at: string,
): Promise<boolean> {
  const r = await m.invitations.updateOne(
    { _id: id, status: "pending" },
    { $set: { status, answeredAt: at } },
  );
  return r.matchedCount > 0;
}

async function createReport(m: Mongo, report: ReportRecord): Promise<void> {
  await m.reports.insertOne(reportDoc(report));
}

async function getReport(m: Mongo, id: string): Promise<ReportRecord | null> {
  const d = await m.reports.findOne({ _id: id });
  return d ? toReport(d) : null;
}

/** Newest first, after the cursor, on the `queue` index. */
async function listReports(
  m: Mongo,
  status: "open" | "resolved",
  options: { limit: number; after?: ReportCursor },
): Promise<ReportRecord[]> {
  const after = options.after;
  const docs = await m.reports.find({
    status,
    ...(after
      ? {
        $or: [
          { createdAt: { $lt: after.createdAt } },
          { createdAt: after.createdAt, _id: { $lt: after.id } },
        ],
      }
      : {}),
  }).sort({ createdAt: -1, _id: -1 }).limit(options.limit).toArray();
  return docs.map(toReport);
}

async function listReportsBy(m: Mongo, reporterId: string): Promise<ReportRecord[]> {
  const docs = await m.reports.find({ reporterId }).sort({ createdAt: 1, _id: 1 }).toArray();
  return docs.map(toReport);
}

/** One update; who resolved it and when are kept only while it is resolved. */
async function resolveReport(
  m: Mongo,
  id: string,
  p: { status: "open" | "resolved"; resolution: string | null; by: string; at: string },
): Promise<boolean> {
  const resolved = p.status === "resolved";
  const r = await m.reports.updateOne({ _id: id }, {
    $set: {
      status: p.status,
      resolution: p.resolution,
      resolvedBy: resolved ? p.by : null,
      resolvedAt: resolved ? p.at : null,
    },
  });
  return r.matchedCount > 0;
}

/** One atomic upsert on the pair's `_id`: a re-ban replaces the whole ban, never a mix of two. */
async function putBan(m: Mongo, ban: BanRecord): Promise<void> {
  const doc = banDoc(ban);
  await m.bans.replaceOne({ _id: doc._id }, doc, { upsert: true });
}

async function deleteBan(m: Mongo, conversationId: string, userId: string): Promise<boolean> {
  return (await m.bans.deleteOne({ _id: banKey(conversationId, userId) })).deletedCount > 0;
}

async function getBan(m: Mongo, conversationId: string, userId: string): Promise<BanRecord | null> {
  const d = await m.bans.findOne({ _id: banKey(conversationId, userId) });
  return d ? toBan(d) : null;
}

async function listBans(m: Mongo, conversationId: string): Promise<BanRecord[]> {
  const docs = await m.bans.find({ conversationId }).sort({ createdAt: -1, userId: 1 }).toArray();
  return docs.map(toBan);
}

async function createInviteLink(m: Mongo, link: InviteLinkRecord): Promise<void> {
  await m.inviteLinks.insertOne(inviteLinkDoc(link));
}

async function getInviteLink(m: Mongo, code: string): Promise<InviteLinkRecord | null> {
  const d = await m.inviteLinks.findOne({ _id: code });
  return d ? toInviteLink(d) : null;
}

async function listInviteLinks(m: Mongo, conversationId: string): Promise<InviteLinkRecord[]> {
  const docs = await m.inviteLinks.find({ conversationId, revokedAt: null })
    .sort({ createdAt: -1, _id: 1 }).toArray();
  return docs.map(toInviteLink);
}

/** One conditional update: only a link of this conversation that is not revoked yet. */
async function revokeInviteLink(
  m: Mongo,
  conversationId: string,
  code: string,
  at: string,
): Promise<boolean> {
  const r = await m.inviteLinks.updateOne(
    { _id: code, conversationId, revokedAt: null },
    { $set: { revokedAt: at } },
  );
  return r.matchedCount > 0;
}

/** `text` as a regular expression that matches it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Live public groups whose folded name contains `query` literally, by (nameFold, _id) after the
 * cursor, on the partial `discovery` index (the filter repeats its `public: true`).
 */
async function discoverGroups(
  m: Mongo,
  options: { query: string; limit: number; after?: DiscoverCursor },
): Promise<Array<{ id: string; nameFold: string }>> {
  const after = options.after ?? { name: "", id: "" };
  const docs = await m.conversations.find(
    {
      public: true,
      deletedAt: null,
      type: "group",
      $and: [
        // A string after the cursor (a missing or null fold is never listed) ...
        {
          $or: [
            { nameFold: { $gt: after.name } },
            { nameFold: after.name, _id: { $gt: after.id } },
          ],
        },
        // ... that contains the query (every name contains the empty one).
        ...(options.query ? [{ nameFold: { $regex: literal(options.query) } }] : []),
      ],
    },
    { projection: { nameFold: 1 } },
  ).sort({ nameFold: 1, _id: 1 }).limit(options.limit).toArray();
  return docs.map((d) => ({ id: d._id, nameFold: d.nameFold! }));
}

async function siteBlockedWords(m: Mongo): Promise<string[]> {
  const d = await m.siteSettings.findOne({ _id: SITE_BLOCKED_WORDS });
  return d ? d.value as string[] : [];
}

async function setSiteBlockedWords(m: Mongo, words: string[]): Promise<void> {
  await m.siteSettings.replaceOne(
    { _id: SITE_BLOCKED_WORDS },
    { value: words },
    { upsert: true },
  );
}

/**
 * Retention: resolved reports, answered invitations, and invite links and bans that ended, each
 * before its cutoff (a null or missing time never is: `$lt` on a string matches only strings). One
 * delete per collection; a sweep repeated after a crash removes what is left.
 */
async function purgeModeration(
  m: Mongo,
  c: { reportsResolvedBefore: string; invitationsAnsweredBefore: string; endedBefore: string },
): Promise<number> {
  const reports = await m.reports.deleteMany({
    status: "resolved",
    resolvedAt: { $lt: c.reportsResolvedBefore },
  });
  const invitations = await m.invitations.deleteMany({
    status: { $ne: "pending" },
    answeredAt: { $lt: c.invitationsAnsweredBefore },
  });
  const links = await m.inviteLinks.deleteMany({
    $or: [{ revokedAt: { $lt: c.endedBefore } }, { expiresAt: { $lt: c.endedBefore } }],
  });
  const bans = await m.bans.deleteMany({ until: { $lt: c.endedBefore } });
  return reports.deletedCount + invitations.deletedCount + links.deletedCount + bans.deletedCount;
}

/**
 * Blocks both ways, invitations sent and received and bans go; reports stay for the admins, without
 * reporter or note. Each step is idempotent, so an erasure repeated after a crash finishes the job.
 */
async function eraseUser(m: Mongo, userId: string): Promise<void> {
  await m.blocks.deleteMany({ $or: [{ userId }, { blockedId: userId }] });
  await m.invitations.deleteMany({ $or: [{ inviteeId: userId }, { inviterId: userId }] });
  await m.bans.deleteMany({ userId });
  await m.reports.updateMany({ reporterId: userId }, { $set: { reporterId: null, note: null } });
}

/**
 * The MongoDB {@link ModerationStore}: one document per block, invitation, report, ban and invite
 * link, and one for the site's blocked words. Blocks and bans are keyed by their pair, so a put is
 * one atomic upsert; a unique partial index keeps one pending invitation per group and invitee.
 * Invite link uses and ban checks are made by the join's commit (see `_commit.ts`).
 */
export class MongoModeration implements ModerationStore {
  constructor(private readonly m: Mongo) {}

  putBlock(block: BlockRecord) {
    return putBlock(this.m, block);
  }
  deleteBlock(userId: string, blockedId: string) {
    return deleteBlock(this.m, userId, blockedId);
  }
  listBlocks(userId: string) {
    return listBlocks(this.m, userId);
  }
  listBlockers(userId: string) {
    return listBlockers(this.m, userId);
  }
  blocksBetween(userId: string, others: string[]) {
    return blocksBetween(this.m, userId, others);
  }

  createInvitation(invitation: InvitationRecord) {
    return createInvitation(this.m, invitation);
  }
  getInvitation(id: string) {
    return getInvitation(this.m, id);
  }
  listInvitations(inviteeId: string) {
    return listInvitations(this.m, inviteeId);
  }
  answerInvitation(id: string, status: "accepted" | "declined", at: string) {
    return answerInvitation(this.m, id, status, at);
  }

  createReport(report: ReportRecord) {
    return createReport(this.m, report);
  }
  getReport(id: string) {
    return getReport(this.m, id);
  }
  listReports(status: "open" | "resolved", options: { limit: number; after?: ReportCursor }) {
    return listReports(this.m, status, options);
  }
  listReportsBy(reporterId: string) {
    return listReportsBy(this.m, reporterId);
  }
  resolveReport(
    id: string,
    patch: { status: "open" | "resolved"; resolution: string | null; by: string; at: string },
  ) {
    return resolveReport(this.m, id, patch);
  }

  putBan(ban: BanRecord) {
    return putBan(this.m, ban);
  }
  deleteBan(conversationId: string, userId: string) {
    return deleteBan(this.m, conversationId, userId);
  }
  getBan(conversationId: string, userId: string) {
    return getBan(this.m, conversationId, userId);
  }
  listBans(conversationId: string) {
    return listBans(this.m, conversationId);
  }

  createInviteLink(link: InviteLinkRecord) {
    return createInviteLink(this.m, link);
  }
  getInviteLink(code: string) {
    return getInviteLink(this.m, code);
  }
  listInviteLinks(conversationId: string) {
    return listInviteLinks(this.m, conversationId);
  }
  revokeInviteLink(conversationId: string, code: string, at: string) {
    return revokeInviteLink(this.m, conversationId, code, at);
  }

  discoverGroups(options: { query: string; limit: number; after?: DiscoverCursor }) {
    return discoverGroups(this.m, options);
  }

  siteBlockedWords() {
    return siteBlockedWords(this.m);
  }
  setSiteBlockedWords(words: string[]) {
    return setSiteBlockedWords(this.m, words);
  }

  purgeModeration(
    cutoffs: {
      reportsResolvedBefore: string;
      invitationsAnsweredBefore: string;
      endedBefore: string;
    },
  ) {
    return purgeModeration(this.m, cutoffs);
  }

  eraseUser(userId: string) {
    return eraseUser(this.m, userId);
  }
}
