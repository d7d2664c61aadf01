import type { MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import type { Session } from "../../domain/types.ts";
import type {
  AuditEntry,
  Change,
  CommitResult,
  ListCursor,
  MediaClaim,
  NewConversation,
  NewUser,
  Store,
  UserKeyRecord,
  UserPatch,
} from "../store.ts";
import * as accounts from "./_accounts.ts";
import * as audit from "./_audit.ts";
import { CommitQueue } from "./_commit.ts";
import * as conversations from "./_conversations.ts";
import { Db } from "./_db.ts";
import * as media from "./_media.ts";
import * as messages from "./_messages.ts";
import { migrate } from "./_migrations.ts";
import { toUserKey } from "./_rows.ts";

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file path, or `:memory:`. */
  path: string;
  synchronous?: "FULL" | "NORMAL";
  groupCommit?: { enabled: boolean; maxBatch: number; windowMs: number };
}

/**
 * The embedded {@link Store}: one SQLite file in WAL mode through `node:sqlite`, one connection,
 * prepared statements, numbered migrations applied on open. Several processes may share the file
 * (writers take the lock with `BEGIN IMMEDIATE` and wait on a busy timeout).
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly db: Db;
  readonly queue: CommitQueue;

  constructor(options: SqliteStoreOptions) {
    this.db = new Db(options.path, { synchronous: options.synchronous ?? "FULL" });
    migrate(this.db);
    this.queue = new CommitQueue(
      this.db,
      options.groupCommit ?? { enabled: true, maxBatch: 256, windowMs: 2 },
    );
  }

  ping() {
    this.db.get("SELECT 1 AS ok");
    return Promise.resolve();
  }

  close() {
    this.queue.flush();
    this.db.close();
    return Promise.resolve();
  }

  createUser(user: NewUser) {
    return run(() => accounts.createUser(this.db, user));
  }
  getUser(id: string) {
    return run(() => accounts.getUser(this.db, id));
  }
  getUsers(ids: string[]) {
    return run(() => accounts.getUsers(this.db, ids));
  }
  getUserByUsername(username: string) {
    return run(() => accounts.getUserByUsername(this.db, username));
  }
  getPasswordHash(userId: string) {
    return run(() => accounts.getPasswordHash(this.db, userId));
  }
  setPasswordHash(userId: string, hash: string) {
    return run(() =>
      void this.db.run("UPDATE users SET password_hash = ? WHERE id = ?", hash, userId)
    );
  }
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }) {
    return run(() => accounts.searchUsers(this.db, prefix, options));
  }
  updateUser(id: string, patch: UserPatch) {
    return run(() => accounts.updateUser(this.db, id, patch));
  }

  createSession(session: Session, refreshHash: string) {
    return run(() => accounts.createSession(this.db, session, refreshHash));
  }
  getSession(id: string) {
    return run(() => accounts.getSession(this.db, id));
  }
  listSessions(userId: string, now: string) {
    return run(() => accounts.listSessions(this.db, userId, now));
  }
  touchSession(id: string, at: string) {
    return run(() => void this.db.run("UPDATE sessions SET last_seen_at = ? WHERE id = ?", at, id));
  }
  revokeSession(id: string, at: string) {
    return run(() =>
      this.db.run(
        "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        at,
        id,
      ) >
        0
    );
  }
  revokeUserSessions(userId: string, at: string) {
    return run(() => accounts.revokeUserSessions(this.db, userId, at));
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: string, expiresAt: string) {
    return run(() => accounts.rotateRefreshToken(this.db, oldHash, newHash, now, expiresAt));
  }

  async ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
    const current = accounts.currentUserKey(this.db, userId);
    if (current) return current;
    const fresh = await make();
    return accounts.ensureUserKey(this.db, userId, fresh);
  }
  getUserKey(keyId: string) {
    return run(() => {
      const r = this.db.get("SELECT * FROM user_keys WHERE id = ?", keyId);
      return r ? toUserKey(r) : null;
    });
  }
  userKeysNotWrappedBy(kekId: string, limit: number) {
    return run(() =>
      this.db.all("SELECT * FROM user_keys WHERE kek_id != ? ORDER BY id LIMIT ?", kekId, limit)
        .map(toUserKey)
    );
  }
  rewrapUserKey(keyId: string, wrapped: Uint8Array, kekId: string) {
    return run(() =>
      void this.db.run(
        "UPDATE user_keys SET wrapped = ?, kek_id = ? WHERE id = ?",
        wrapped,
        kekId,
        keyId,
      )
    );
  }

  createConversation(input: NewConversation) {
    return run(() => conversations.createConversation(this.db, input));
  }
  getConversation(id: string) {
    return run(() => conversations.getConversation(this.db, id));
  }
  getMember(conversationId: string, userId: string) {
    return run(() => conversations.getMember(this.db, conversationId, userId));
  }
  listMembers(conversationId: string, options: { limit: number; afterUserId?: string }) {
    return run(() => conversations.listMembers(this.db, conversationId, options));
  }
  memberIds(conversationId: string) {
    return run(() => conversations.memberIds(this.db, conversationId));
  }
  conversationHeads(userId: string) {
    return run(() => conversations.conversationHeads(this.db, userId));
  }
  contactIds(userId: string) {
    return run(() => conversations.contactIds(this.db, userId));
  }
  sharesConversation(a: string, b: string) {
    return run(() => conversations.sharesConversation(this.db, a, b));
  }
  listConversations(
    userId: string,
    options: { archived: boolean; limit: number; cursor?: ListCursor },
  ) {
    return run(() => conversations.listConversations(this.db, userId, options));
  }
  conversationItem(userId: string, conversationId: string) {
    return run(() => conversations.conversationItem(this.db, userId, conversationId));
  }
  setMemberState(
    conversationId: string,
    userId: string,
    patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ) {
    return run(() => conversations.setMemberState(this.db, conversationId, userId, patch));
  }

  commit(change: Change): Promise<CommitResult> {
    return this.queue.enqueue(change);
  }

  getMessage(conversationId: string, messageId: string) {
    return run(() => messages.getMessage(this.db, conversationId, messageId));
  }
  getMessageByClientId(senderId: string, clientMsgId: string) {
    return run(() => messages.getMessageByClientId(this.db, senderId, clientMsgId));
  }
  listMessages(
    conversationId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ) {
    return run(() => messages.listMessages(this.db, conversationId, viewerId, options));
  }
  listEvents(conversationId: string, options: { after: number; limit: number }) {
    return run(() => messages.listEvents(this.db, conversationId, options));
  }
  reactions(messageIds: string[]) {
    return run(() => messages.reactions(this.db, messageIds));
  }
  hideMessage(userId: string, message: Parameters<typeof messages.hideMessage>[2]) {
    return run(() => messages.hideMessage(this.db, userId, message));
  }
  advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ) {
    return run(() => messages.advanceMarker(this.db, conversationId, userId, kind, seq, at));
  }
  receipts(conversationId: string, seq: number) {
    return run(() => messages.receipts(this.db, conversationId, seq));
  }

  createMedia(record: MediaRecord) {
    return run(() => media.createMedia(this.db, record));
  }
  getMedia(id: string) {
    return run(() => media.getMedia(this.db, id));
  }
  getMediaMany(ids: string[]) {
    return run(() => media.getMediaMany(this.db, ids));
  }
  updateMedia(id: string, patch: MediaPatch, options: { whenStatus?: MediaStatus } = {}) {
    return run(() => media.updateMedia(this.db, id, patch, options.whenStatus));
  }
  claimMedia(id: string, claim: MediaClaim) {
    return run(() => media.claimMedia(this.db, id, claim));
  }
  listMediaByStatus(status: MediaStatus, options: { limit: number; afterId?: string }) {
    return run(() => media.listMediaByStatus(this.db, status, options));
  }
  deleteMedia(id: string) {
    return run(() => this.db.run("DELETE FROM media WHERE id = ?", id) > 0);
  }
  canSeeMedia(userId: string, mediaId: string) {
    return run(() => media.canSeeMedia(this.db, userId, mediaId));
  }
  isMediaReferenced(mediaId: string) {
    return run(() => media.isMediaReferenced(this.db, mediaId));
  }

  appendAudit(entry: AuditEntry) {
    return run(() => audit.appendAudit(this.db, entry));
  }
  listAudit(options: { limit: number; before?: string; action?: string; actorId?: string }) {
    return run(() => audit.listAudit(this.db, options));
  }
}

/** Runs synchronous SQLite work and returns it as a settled promise (errors become rejections). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Opens (creating and migrating if needed) an embedded store. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
