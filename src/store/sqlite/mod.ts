import type { MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import type { Session } from "../../domain/types.ts";
import type {
  AuditEntry,
  Change,
  CommitResult,
  ListCursor,
  MediaClaim,
  MemberCursor,
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
import { Writer } from "./_writer.ts";
import { toUserKey } from "./_rows.ts";
import * as activity from "./_activity.ts";
import * as exports from "./_exports.ts";
import * as privacy from "./_privacy.ts";
import type {
  DailyCounter,
  DataExportPatch,
  DataExportRecord,
  ExportStatus,
} from "../../domain/privacy.ts";
import type { ErasureStart, ReactionCursor, SentCursor } from "../privacy.ts";

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
  /** The main thread's connection: reads only (and migrations at start). */
  readonly db: Db;
  readonly queue: CommitQueue;
  readonly #writer: Writer;

  constructor(options: SqliteStoreOptions) {
    const synchronous = options.synchronous ?? "FULL";
    this.db = new Db(options.path, { synchronous });
    migrate(this.db);
    this.#writer = new Writer(options.path, synchronous);
    this.queue = new CommitQueue(
      this.#writer,
      options.groupCommit ?? { enabled: true, maxBatch: 256, windowMs: 2 },
    );
  }

  ping() {
    this.db.get("SELECT 1 AS ok");
    return Promise.resolve();
  }

  async close() {
    await this.queue.drain();
    await this.#writer.close();
    this.db.close();
  }

  createUser(user: NewUser) {
    return this.#writer.write("createUser", user);
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
    return this.#writer.write("setPasswordHash", userId, hash);
  }
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }) {
    return run(() => accounts.searchUsers(this.db, prefix, options));
  }
  updateUser(id: string, patch: UserPatch) {
    return this.#writer.write("updateUser", id, patch);
  }

  createSession(session: Session, refreshHash: string) {
    return this.#writer.write("createSession", session, refreshHash);
  }
  getSession(id: string) {
    return run(() => accounts.getSession(this.db, id));
  }
  listSessions(userId: string, now: string) {
    return run(() => accounts.listSessions(this.db, userId, now));
  }
  touchSession(id: string, at: string) {
    return this.#writer.write("touchSession", id, at);
  }
  revokeSession(id: string, at: string) {
    return this.#writer.write("revokeSession", id, at);
  }
  revokeUserSessions(userId: string, at: string, options: { except?: string } = {}) {
    return this.#writer.write("revokeUserSessions", userId, at, options.except ?? null);
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: string, expiresAt: string) {
    return this.#writer.write("rotateRefreshToken", oldHash, newHash, now, expiresAt);
  }

  async ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
    const current = accounts.currentUserKey(this.db, userId);
    if (current) return current;
    return await this.#writer.write("ensureUserKey", userId, await make());
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
    return this.#writer.write("rewrapUserKey", keyId, wrapped, kekId);
  }

  createConversation(input: NewConversation) {
    return this.#writer.write("createConversation", input);
  }
  getConversation(id: string) {
    return run(() => conversations.getConversation(this.db, id));
  }
  getMember(conversationId: string, userId: string) {
    return run(() => conversations.getMember(this.db, conversationId, userId));
  }
  listMembers(conversationId: string, options: { limit: number; after?: MemberCursor }) {
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
    return this.#writer.write("setMemberState", conversationId, userId, patch);
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
  hiddenMessageIds(userId: string, messageIds: string[]) {
    return run(() => messages.hiddenMessageIds(this.db, userId, messageIds));
  }
  hideMessage(userId: string, message: Parameters<typeof messages.hideMessage>[2]) {
    return this.#writer.write("hideMessage", userId, message);
  }
  advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ) {
    return this.#writer.write("advanceMarker", conversationId, userId, kind, seq, at);
  }
  receipts(conversationId: string, seq: number) {
    return run(() => messages.receipts(this.db, conversationId, seq));
  }

  createMedia(record: MediaRecord) {
    return this.#writer.write("createMedia", record);
  }
  getMedia(id: string) {
    return run(() => media.getMedia(this.db, id));
  }
  getMediaMany(ids: string[]) {
    return run(() => media.getMediaMany(this.db, ids));
  }
  updateMedia(id: string, patch: MediaPatch, options: { whenStatus?: MediaStatus } = {}) {
    return this.#writer.write("updateMedia", id, patch, options.whenStatus);
  }
  claimMedia(id: string, claim: MediaClaim) {
    return this.#writer.write("claimMedia", id, claim);
  }
  listMediaByStatus(status: MediaStatus, options: { limit: number; afterId?: string }) {
    return run(() => media.listMediaByStatus(this.db, status, options));
  }
  deleteMedia(id: string) {
    return this.#writer.write("deleteMedia", id);
  }
  canSeeMedia(userId: string, mediaId: string) {
    return run(() => media.canSeeMedia(this.db, userId, mediaId));
  }
  isMediaReferenced(mediaId: string) {
    return run(() => media.isMediaReferenced(this.db, mediaId));
  }

  appendAudit(entry: AuditEntry) {
    return this.#writer.write("appendAudit", entry);
  }
  listAudit(options: { limit: number; before?: string; action?: string; actorId?: string }) {
    return run(() => audit.listAudit(this.db, options));
  }

  allSessions(userId: string) {
    return run(() => privacy.allSessions(this.db, userId));
  }
  listSentMessages(userId: string, options: { limit: number; after?: SentCursor }) {
    return run(() => privacy.listSentMessages(this.db, userId, options));
  }
  listUserReactions(userId: string, options: { limit: number; after?: ReactionCursor }) {
    return run(() => privacy.listUserReactions(this.db, userId, options));
  }
  listMediaByOwner(ownerId: string, options: { limit: number; afterId?: string }) {
    return run(() => privacy.listMediaByOwner(this.db, ownerId, options));
  }
  beginErasure(userId: string, start: ErasureStart) {
    return this.#writer.write("beginErasure", userId, start);
  }
  finishErasure(userId: string, at: string) {
    return this.#writer.write("finishErasure", userId, at);
  }
  pendingErasures(before: string, limit: number) {
    return run(() => privacy.pendingErasures(this.db, before, limit));
  }
  async scrub() {
    await this.queue.drain();
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await this.#writer.write("checkpoint")) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the WAL checkpoint could not complete: another connection keeps reading");
  }
  retentionConversations(options: { limit: number; afterId?: string }) {
    return run(() => privacy.retentionConversations(this.db, options));
  }
  sweepRetention(conversationId: string, cutoff: string, limit: number) {
    return this.#writer.write("sweepRetention", conversationId, cutoff, limit);
  }

  createExport(record: DataExportRecord) {
    return this.#writer.write("createExport", record);
  }
  getExport(id: string) {
    return run(() => exports.getExport(this.db, id));
  }
  updateExport(id: string, patch: DataExportPatch, options: { whenStatus?: ExportStatus } = {}) {
    return this.#writer.write("updateExport", id, patch, options.whenStatus);
  }
  listExports(userId: string) {
    return run(() => exports.listExports(this.db, userId));
  }
  dueExports(now: string, limit: number) {
    return run(() => exports.dueExports(this.db, now, limit));
  }
  deleteExport(id: string) {
    return this.#writer.write("deleteExport", id);
  }

  markActive(day: string, userIds: string[]) {
    return this.#writer.write("markActive", day, userIds);
  }
  countActive(days: string[]) {
    return run(() => activity.countActive(this.db, days));
  }
  addDailyCounts(day: string, counts: Partial<Record<DailyCounter, number>>) {
    return this.#writer.write("addDailyCounts", day, counts);
  }
  dailyCounts(days: string[]) {
    return run(() => activity.dailyCounts(this.db, days));
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
