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
import type { SealedText } from "../../domain/types.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import type { Writer } from "./_writer.ts";

function sealed(blob: Row[string], keyId: Row[string]): SealedText | null {
  return blob === null || blob === undefined ? null : { keyId: str(keyId), blob: bytes(blob) };
}

/** Maps a `blocks` row (also used by the SQLite → MongoDB migration). */
export function toBlock(r: Row): BlockRecord {
  return { userId: str(r.user_id), blockedId: str(r.blocked_id), createdAt: str(r.created_at) };
}

/** Maps an `invitations` row (also used by the SQLite → MongoDB migration). */
export function toInvitation(r: Row): InvitationRecord {
  return {
    id: str(r.id),
    conversationId: str(r.conversation_id),
    inviterId: str(r.inviter_id),
    inviteeId: str(r.invitee_id),
    status: str(r.status) as InvitationRecord["status"],
    createdAt: str(r.created_at),
    answeredAt: strOrNull(r.answered_at),
  };
}

/** Maps a `reports` row (also used by the SQLite → MongoDB migration). */
export function toReport(r: Row): ReportRecord {
  return {
    id: str(r.id),
    reporterId: strOrNull(r.reporter_id),
    reason: str(r.reason) as ReportRecord["reason"],
    note: sealed(r.note, r.note_key),
    conversationId: strOrNull(r.conversation_id),
    messageId: strOrNull(r.message_id),
    userId: strOrNull(r.user_id),
    evidence: sealed(r.evidence, r.evidence_key),
    status: str(r.status) as ReportRecord["status"],
    resolution: strOrNull(r.resolution),
    resolvedBy: strOrNull(r.resolved_by),
    resolvedAt: strOrNull(r.resolved_at),
    createdAt: str(r.created_at),
  };
}

/** Maps a `bans` row (also used by the SQLite → MongoDB migration). */
export function toBan(r: Row): BanRecord {
  return {
    conversationId: str(r.conversation_id),
    userId: str(r.user_id),
    bannedBy: str(r.banned_by),
    reason: sealed(r.reason, r.reason_key),
    until: strOrNull(r.until),
    createdAt: str(r.created_at),
  };
}

/** Maps an `invite_links` row (also used by the SQLite → MongoDB migration). */
export function toInviteLink(r: Row): InviteLinkRecord {
  return {
    code: str(r.code),
    conversationId: str(r.conversation_id),
    createdBy: str(r.created_by),
    createdAt: str(r.created_at),
    expiresAt: strOrNull(r.expires_at),
    maxUses: r.max_uses === null ? null : num(r.max_uses),
    uses: num(r.uses),
    revokedAt: strOrNull(r.revoked_at),
  };
}

function putBlock(db: Db, b: BlockRecord): boolean {
  return db.run(
    "INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    b.userId,
    b.blockedId,
    b.createdAt,
  ) > 0;
}

function deleteBlock(db: Db, userId: string, blockedId: string): boolean {
  return db.run("DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?", userId, blockedId) > 0;
}

function listBlocks(db: Db, userId: string): BlockRecord[] {
  return db.all(
    "SELECT * FROM blocks WHERE user_id = ? ORDER BY created_at DESC, blocked_id",
    userId,
  ).map(toBlock);
}

function listBlockers(db: Db, userId: string): string[] {
  return db.all("SELECT user_id FROM blocks WHERE blocked_id = ?", userId).map((r) =>
    str(r.user_id)
  );
}

function blocksBetween(
  db: Db,
  userId: string,
  others: string[],
): { blocking: Set<string>; blockedBy: Set<string> } {
  const out = { blocking: new Set<string>(), blockedBy: new Set<string>() };
  if (others.length === 0) return out;
  const list = placeholders(others.length);
  for (
    const r of db.all(
      `SELECT user_id, blocked_id FROM blocks
       WHERE (user_id = ? AND blocked_id IN (${list})) OR (blocked_id = ? AND user_id IN (${list}))`,
      userId,
      ...others,
      userId,
      ...others,
    )
  ) {
    if (str(r.user_id) === userId) out.blocking.add(str(r.blocked_id));
    else out.blockedBy.add(str(r.user_id));
  }
  return out;
}

function createInvitation(db: Db, inv: InvitationRecord): InvitationRecord {
  db.run(
    `INSERT INTO invitations (id, conversation_id, inviter_id, invitee_id, status, created_at,
       answered_at) VALUES (?, ?, ?, ?, 'pending', ?, NULL)
     ON CONFLICT (conversation_id, invitee_id) WHERE status = 'pending' DO NOTHING`,
    inv.id,
    inv.conversationId,
    inv.inviterId,
    inv.inviteeId,
    inv.createdAt,
  );
  return toInvitation(
    db.get(
      "SELECT * FROM invitations WHERE conversation_id = ? AND invitee_id = ? AND status = 'pending'",
      inv.conversationId,
      inv.inviteeId,
    )!,
  );
}

function getInvitation(db: Db, id: string): InvitationRecord | null {
  const r = db.get("SELECT * FROM invitations WHERE id = ?", id);
  return r ? toInvitation(r) : null;
}

function listInvitations(db: Db, inviteeId: string): InvitationRecord[] {
  return db.all(
    `SELECT * FROM invitations WHERE invitee_id = ? AND status = 'pending'
     ORDER BY created_at DESC, id DESC`,
    inviteeId,
  ).map(toInvitation);
}

function answerInvitation(
  db: Db,
  id: string,
  status: "accepted" | "declined",
  at: string,
): boolean {
  return db.run(
    "UPDATE invitations SET status = ?, answered_at = ? WHERE id = ? AND status = 'pending'",
    status,
    at,
    id,
  ) > 0;
}

function createReport(db: Db, r: ReportRecord): void {
  db.run(
    `INSERT INTO reports (id, reporter_id, reason, note, note_key, conversation_id, message_id,
       user_id, evidence, evidence_key, status, resolution, resolved_by, resolved_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    r.id,
    r.reporterId,
    r.reason,
    r.note?.blob ?? null,
    r.note?.keyId ?? null,
    r.conversationId,
    r.messageId,
    r.userId,
    r.evidence?.blob ?? null,
    r.evidence?.keyId ?? null,
    r.status,
    r.resolution,
    r.resolvedBy,
    r.resolvedAt,
    r.createdAt,
  );
}

function getReport(db: Db, id: string): ReportRecord | null {
  const r = db.get("SELECT * FROM reports WHERE id = ?", id);
  return r ? toReport(r) : null;
}

function listReports(
  db: Db,
  status: "open" | "resolved",
  o: { limit: number; after?: ReportCursor },
): ReportRecord[] {
  const after = o.after ?? { createdAt: "\u{10FFFF}", id: "" };
  return db.all(
    `SELECT * FROM reports WHERE status = ?1
       AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
     ORDER BY created_at DESC, id DESC LIMIT ?4`,
    status,
    after.createdAt,
    o.after ? after.id : "\u{10FFFF}",
    o.limit,
  ).map(toReport);
}

function listReportsBy(db: Db, reporterId: string): ReportRecord[] {
  return db.all("SELECT * FROM reports WHERE reporter_id = ? ORDER BY created_at, id", reporterId)
    .map(toReport);
}

function resolveReport(
  db: Db,
  id: string,
  p: { status: "open" | "resolved"; resolution: string | null; by: string; at: string },
): boolean {
  return db.run(
    "UPDATE reports SET status = ?, resolution = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
    p.status,
    p.resolution,
    p.status === "resolved" ? p.by : null,
    p.status === "resolved" ? p.at : null,
    id,
  ) > 0;
}

function putBan(db: Db, b: BanRecord): void {
  db.run(
    `INSERT INTO bans (conversation_id, user_id, banned_by, reason, reason_key, until, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (conversation_id, user_id) DO UPDATE SET banned_by = excluded.banned_by,
       reason = excluded.reason, reason_key = excluded.reason_key, until = excluded.until,
       created_at = excluded.created_at`,
    b.conversationId,
    b.userId,
    b.bannedBy,
    b.reason?.blob ?? null,
    b.reason?.keyId ?? null,
    b.until,
    b.createdAt,
  );
}

function deleteBan(db: Db, conversationId: string, userId: string): boolean {
  return db.run(
    "DELETE FROM bans WHERE conversation_id = ? AND user_id = ?",
    conversationId,
    userId,
  ) > 0;
}

function getBan(db: Db, conversationId: string, userId: string): BanRecord | null {
  const r = db.get(
    "SELECT * FROM bans WHERE conversation_id = ? AND user_id = ?",
    conversationId,
    userId,
  );
  return r ? toBan(r) : null;
}

function listBans(db: Db, conversationId: string): BanRecord[] {
  return db.all(
    "SELECT * FROM bans WHERE conversation_id = ? ORDER BY created_at DESC, user_id",
    conversationId,
  ).map(toBan);
}

function createInviteLink(db: Db, l: InviteLinkRecord): void {
  db.run(
    `INSERT INTO invite_links (code, conversation_id, created_by, created_at, expires_at, max_uses,
       uses, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    l.code,
    l.conversationId,
    l.createdBy,
    l.createdAt,
    l.expiresAt,
    l.maxUses,
    l.uses,
    l.revokedAt,
  );
}

function getInviteLink(db: Db, code: string): InviteLinkRecord | null {
  const r = db.get("SELECT * FROM invite_links WHERE code = ?", code);
  return r ? toInviteLink(r) : null;
}

function listInviteLinks(db: Db, conversationId: string): InviteLinkRecord[] {
  return db.all(
    `SELECT * FROM invite_links WHERE conversation_id = ? AND revoked_at IS NULL
     ORDER BY created_at DESC, code`,
    conversationId,
  ).map(toInviteLink);
}

function revokeInviteLink(db: Db, conversationId: string, code: string, at: string): boolean {
  return db.run(
    `UPDATE invite_links SET revoked_at = ?
     WHERE code = ? AND conversation_id = ? AND revoked_at IS NULL`,
    at,
    code,
    conversationId,
  ) > 0;
}

function discoverGroups(
  db: Db,
  o: { query: string; limit: number; after?: DiscoverCursor },
): Array<{ id: string; nameFold: string }> {
  const after = o.after ?? { name: "", id: "" };
  return db.all(
    `SELECT id, name_fold FROM conversations
     WHERE public = 1 AND deleted_at IS NULL AND type = 'group' AND instr(name_fold, ?1) > 0
       AND (name_fold > ?2 OR (name_fold = ?2 AND id > ?3))
     ORDER BY name_fold, id LIMIT ?4`,
    o.query,
    after.name,
    after.id,
    o.limit,
  ).map((r) => ({ id: str(r.id), nameFold: str(r.name_fold) }));
}

const SITE_BLOCKED_WORDS = "blockedWords";

function siteBlockedWords(db: Db): string[] {
  const r = db.get("SELECT value FROM site_settings WHERE key = ?", SITE_BLOCKED_WORDS);
  return r ? JSON.parse(str(r.value)) : [];
}

function setSiteBlockedWords(db: Db, words: string[]): void {
  db.run(
    `INSERT INTO site_settings (key, value) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    SITE_BLOCKED_WORDS,
    JSON.stringify(words),
  );
}

function purgeModeration(
  db: Db,
  c: { reportsResolvedBefore: string; invitationsAnsweredBefore: string; endedBefore: string },
): number {
  return db.transaction(() =>
    db.run(
      "DELETE FROM reports WHERE status = 'resolved' AND resolved_at < ?",
      c.reportsResolvedBefore,
    ) +
    db.run(
      "DELETE FROM invitations WHERE status != 'pending' AND answered_at < ?",
      c.invitationsAnsweredBefore,
    ) +
    db.run(
      "DELETE FROM invite_links WHERE revoked_at < ?1 OR expires_at < ?1",
      c.endedBefore,
    ) +
    db.run("DELETE FROM bans WHERE until < ?", c.endedBefore)
  );
}

function eraseUser(db: Db, userId: string): void {
  db.transaction(() => {
    db.run("DELETE FROM blocks WHERE user_id = ? OR blocked_id = ?", userId, userId);
    db.run("DELETE FROM invitations WHERE invitee_id = ? OR inviter_id = ?", userId, userId);
    db.run("DELETE FROM bans WHERE user_id = ?", userId);
    db.run(
      "UPDATE reports SET reporter_id = NULL, note = NULL, note_key = NULL WHERE reporter_id = ?",
      userId,
    );
  });
}

/** The moderation writes, run on the writer thread (see `_writes.ts`). */
export const moderationWrites = {
  putBlock,
  deleteBlock,
  createInvitation,
  answerInvitation,
  createReport,
  resolveReport,
  putBan,
  deleteBan,
  createInviteLink,
  revokeInviteLink,
  setSiteBlockedWords,
  purgeModeration,
  eraseModerationUser: eraseUser,
};

/** The SQLite {@link ModerationStore}: reads on the main connection, writes on the writer thread. */
export function sqliteModeration(db: Db, writer: Writer): ModerationStore {
  const { eraseModerationUser, ...writes } = bindWrites(writer, moderationWrites);
  return {
    ...bindReads(db, {
      listBlocks,
      listBlockers,
      blocksBetween,
      getInvitation,
      listInvitations,
      getReport,
      listReports,
      listReportsBy,
      getBan,
      listBans,
      getInviteLink,
      listInviteLinks,
      discoverGroups,
      siteBlockedWords,
    }),
    ...writes,
    eraseUser: eraseModerationUser,
  };
}
