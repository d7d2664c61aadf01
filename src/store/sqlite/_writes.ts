import type { Session } from "../../domain/types.ts";
import type { MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import type {
  AuditEntry,
  MediaClaim,
  NewConversation,
  NewUser,
  UserKeyRecord,
  UserPatch,
} from "../store.ts";
import * as accounts from "./_accounts.ts";
import * as audit from "./_audit.ts";
import * as conversations from "./_conversations.ts";
import type { Db } from "./_db.ts";
import * as media from "./_media.ts";
import * as messages from "./_messages.ts";
import * as activity from "./_activity.ts";
import * as exports from "./_exports.ts";
import * as privacy from "./_privacy.ts";
import type {
  DailyCounter,
  DataExportPatch,
  DataExportRecord,
  ExportStatus,
} from "../../domain/privacy.ts";
import type { ErasureStart } from "../privacy.ts";

/**
 * Every write of the SQLite adapter, by name. They run on the writer thread's connection (see
 * `writer_worker.ts`), so the event loop never waits on a write lock or an fsync.
 */
export const WRITES = {
  createUser: (db: Db, user: NewUser) => accounts.createUser(db, user),
  updateUser: (db: Db, id: string, patch: UserPatch) => accounts.updateUser(db, id, patch),
  setPasswordHash: (db: Db, userId: string, hash: string) =>
    void db.run("UPDATE users SET password_hash = ? WHERE id = ?", hash, userId),
  createSession: (db: Db, session: Session, refreshHash: string) =>
    accounts.createSession(db, session, refreshHash),
  touchSession: (db: Db, id: string, at: string) =>
    void db.run("UPDATE sessions SET last_seen_at = ? WHERE id = ?", at, id),
  revokeSession: (db: Db, id: string, at: string) =>
    db.run("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", at, id) > 0,
  revokeUserSessions: (db: Db, userId: string, at: string, except: string | null) =>
    accounts.revokeUserSessions(db, userId, at, except),
  rotateRefreshToken: (db: Db, oldHash: string, newHash: string, now: string, expiresAt: string) =>
    accounts.rotateRefreshToken(db, oldHash, newHash, now, expiresAt),
  ensureUserKey: (db: Db, userId: string, key: UserKeyRecord) =>
    accounts.ensureUserKey(db, userId, key),
  rewrapUserKey: (db: Db, keyId: string, wrapped: Uint8Array, kekId: string) =>
    void db.run("UPDATE user_keys SET wrapped = ?, kek_id = ? WHERE id = ?", wrapped, kekId, keyId),
  createConversation: (db: Db, input: NewConversation) =>
    conversations.createConversation(db, input),
  setMemberState: (
    db: Db,
    conversationId: string,
    userId: string,
    patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ) => conversations.setMemberState(db, conversationId, userId, patch),
  hideMessage: (db: Db, userId: string, message: Parameters<typeof messages.hideMessage>[2]) =>
    messages.hideMessage(db, userId, message),
  advanceMarker: (
    db: Db,
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ) => messages.advanceMarker(db, conversationId, userId, kind, seq, at),
  appendAudit: (db: Db, entry: AuditEntry) => audit.appendAudit(db, entry),
  createMedia: (db: Db, record: MediaRecord) => media.createMedia(db, record),
  updateMedia: (db: Db, id: string, patch: MediaPatch, whenStatus?: MediaStatus) =>
    media.updateMedia(db, id, patch, whenStatus),
  claimMedia: (db: Db, id: string, claim: MediaClaim) => media.claimMedia(db, id, claim),
  deleteMedia: (db: Db, id: string) => db.run("DELETE FROM media WHERE id = ?", id) > 0,
  beginErasure: (db: Db, userId: string, start: ErasureStart) =>
    privacy.beginErasure(db, userId, start),
  finishErasure: (db: Db, userId: string, at: string) => privacy.finishErasure(db, userId, at),
  checkpoint: (db: Db) => privacy.checkpoint(db),
  sweepRetention: (db: Db, conversationId: string, cutoff: string, limit: number) =>
    privacy.sweepRetention(db, conversationId, cutoff, limit),
  createExport: (db: Db, record: DataExportRecord) => exports.createExport(db, record),
  updateExport: (db: Db, id: string, patch: DataExportPatch, whenStatus?: ExportStatus) =>
    exports.updateExport(db, id, patch, whenStatus),
  deleteExport: (db: Db, id: string) => db.run("DELETE FROM data_exports WHERE id = ?", id) > 0,
  markActive: (db: Db, day: string, userIds: string[]) => activity.markActive(db, day, userIds),
  addDailyCounts: (db: Db, day: string, counts: Partial<Record<DailyCounter, number>>) =>
    activity.addDailyCounts(db, day, counts),
};

export type WriteName = keyof typeof WRITES;

/** The arguments of a write, without the connection. */
export type WriteArgs<K extends WriteName> = typeof WRITES[K] extends
  (db: Db, ...args: infer A) => unknown ? A
  : never;

/** The result of a write. */
export type WriteResult<K extends WriteName> = ReturnType<typeof WRITES[K]>;
