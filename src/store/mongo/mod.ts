import type { MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import { type Db, MongoClient, type MongoClientOptions, type ReadPreferenceMode } from "mongodb";
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
import * as media from "./_media.ts";
import { commit } from "./_commit.ts";
import * as conversations from "./_conversations.ts";
import { listEvents } from "./_event_log.ts";
import { collections, ensureIndexes, type Mongo } from "./_db.ts";
import * as markers from "./_markers.ts";
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
import type { ErasureStart, ReactionCursor, SentCursor } from "../privacy.ts";

/** Connection settings of {@link MongoStore} (the shape of `config.mongo`). */
export interface MongoStoreOptions {
  uri: string;
  /** Database name. */
  db: string;
  appName: string;
  maxPoolSize: number;
  /** Bounds server selection, connecting, waiting for a pooled connection and each socket read. */
  timeoutMs: number;
  /** Overrides the socket read bound (0: none), for tools whose single operations run long. */
  socketTimeoutMs?: number;
  /**
   * Where pages of older history are read: `nearest` (default) lets a nearby replica answer,
   * accepting its slight lag; `primary` reads your own writes there too.
   */
  historyReads?: ReadPreferenceMode;
}

/** The driver settings for `options`: retryable reads and writes, majority writes, timeouts. */
export function clientOptions(options: MongoStoreOptions): MongoClientOptions {
  return {
    appName: options.appName,
    maxPoolSize: options.maxPoolSize,
    serverSelectionTimeoutMS: options.timeoutMs,
    connectTimeoutMS: options.timeoutMs,
    waitQueueTimeoutMS: options.timeoutMs,
    socketTimeoutMS: options.socketTimeoutMs ?? options.timeoutMs,
    retryWrites: true,
    retryReads: true,
    // Every write of a commit waits for a majority, so a failover cannot keep a commit's event
    // while rolling back a message it points at.
    writeConcern: { w: "majority" },
    readPreference: "primary",
    // Optional fields left undefined are left out, as JSON leaves them out in the SQLite adapter.
    ignoreUndefined: true,
  };
}

/**
 * The production {@link Store} on MongoDB through the official driver. Collections and indexes are
 * created on connect (idempotently). Each conversation's seq comes from one atomic `findOneAndUpdate`
 * on its document; unique indexes hold idempotency (sender + clientMsgId), the one direct
 * conversation per pair, the one current data key per user and usernames. Messages, edits, erasures
 * and reactions commit without multi-document transactions (see `commit` in `_commit.ts`); group
 * changes and conversation creation use one, so the deployment must be a replica set or sharded
 * cluster (Atlas always is).
 *
 * @example
 * const store = await MongoStore.connect(config.mongo!);
 */
export class MongoStore implements Store {
  readonly kind = "mongo" as const;
  readonly #m: Mongo;
  readonly #historyReads: ReadPreferenceMode;

  private constructor(m: Mongo, historyReads: ReadPreferenceMode) {
    this.#m = m;
    this.#historyReads = historyReads;
  }

  /** Connects, ensures collections and indexes, and returns the store. */
  static async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, clientOptions(options));
    await client.connect();
    try {
      const m = collections(client, client.db(options.db));
      await ensureIndexes(m);
      return new MongoStore(m, options.historyReads ?? "nearest");
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** The underlying database (for tools and tests). */
  get db(): Db {
    return this.#m.db;
  }

  async ping() {
    await this.#m.db.command({ ping: 1 });
  }
  async close() {
    await this.#m.client.close();
  }

  createUser(user: NewUser) {
    return accounts.createUser(this.#m, user);
  }
  getUser(id: string) {
    return accounts.getUser(this.#m, id);
  }
  getUsers(ids: string[]) {
    return accounts.getUsers(this.#m, ids);
  }
  getUserByUsername(username: string) {
    return accounts.getUserByUsername(this.#m, username);
  }
  getPasswordHash(userId: string) {
    return accounts.getPasswordHash(this.#m, userId);
  }
  async setPasswordHash(userId: string, hash: string) {
    await this.#m.users.updateOne({ _id: userId }, { $set: { passwordHash: hash } });
  }
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }) {
    return accounts.searchUsers(this.#m, prefix, options);
  }
  updateUser(id: string, patch: UserPatch) {
    return accounts.updateUser(this.#m, id, patch);
  }

  createSession(session: Session, refreshHash: string) {
    return accounts.createSession(this.#m, session, refreshHash);
  }
  getSession(id: string) {
    return accounts.getSession(this.#m, id);
  }
  listSessions(userId: string, now: string) {
    return accounts.listSessions(this.#m, userId, now);
  }
  async touchSession(id: string, at: string) {
    await this.#m.sessions.updateOne({ _id: id }, { $set: { lastSeenAt: at } });
  }
  revokeSession(id: string, at: string) {
    return accounts.revokeSession(this.#m, id, at);
  }
  revokeUserSessions(userId: string, at: string, options: { except?: string } = {}) {
    return accounts.revokeUserSessions(this.#m, userId, at, options.except);
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: string, expiresAt: string) {
    return accounts.rotateRefreshToken(this.#m, oldHash, newHash, now, expiresAt);
  }

  async ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
    const current = await accounts.currentUserKey(this.#m, userId);
    if (current) return current;
    return await accounts.ensureUserKey(this.#m, userId, await make());
  }
  getUserKey(keyId: string) {
    return accounts.getUserKey(this.#m, keyId);
  }
  userKeysNotWrappedBy(kekId: string, limit: number) {
    return accounts.userKeysNotWrappedBy(this.#m, kekId, limit);
  }
  rewrapUserKey(keyId: string, wrapped: Uint8Array, kekId: string) {
    return accounts.rewrapUserKey(this.#m, keyId, wrapped, kekId);
  }

  createConversation(input: NewConversation) {
    return conversations.createConversation(this.#m, input);
  }
  getConversation(id: string) {
    return conversations.getConversation(this.#m, id);
  }
  getMember(conversationId: string, userId: string) {
    return conversations.getMember(this.#m, conversationId, userId);
  }
  listMembers(conversationId: string, options: { limit: number; after?: MemberCursor }) {
    return conversations.listMembers(this.#m, conversationId, options);
  }
  memberIds(conversationId: string) {
    return conversations.memberIds(this.#m, conversationId);
  }
  conversationHeads(userId: string) {
    return conversations.conversationHeads(this.#m, userId);
  }
  contactIds(userId: string) {
    return conversations.contactIds(this.#m, userId);
  }
  sharesConversation(a: string, b: string) {
    return conversations.sharesConversation(this.#m, a, b);
  }
  listConversations(
    userId: string,
    options: { archived: boolean; limit: number; cursor?: ListCursor },
  ) {
    return conversations.listConversations(this.#m, userId, options);
  }
  conversationItem(userId: string, conversationId: string) {
    return conversations.conversationItem(this.#m, userId, conversationId);
  }
  setMemberState(
    conversationId: string,
    userId: string,
    patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ) {
    return conversations.setMemberState(this.#m, conversationId, userId, patch);
  }

  commit(change: Change): Promise<CommitResult> {
    return commit(this.#m, change);
  }

  getMessage(conversationId: string, messageId: string) {
    return messages.getMessage(this.#m, conversationId, messageId);
  }
  getMessageByClientId(senderId: string, clientMsgId: string) {
    return messages.getMessageByClientId(this.#m, senderId, clientMsgId);
  }
  listMessages(
    conversationId: string,
    viewerId: string,
    options: { before?: number; after?: number; limit: number },
  ) {
    return messages.listMessages(this.#m, conversationId, viewerId, options, this.#historyReads);
  }
  listEvents(conversationId: string, options: { after: number; limit: number }) {
    return listEvents(this.#m, conversationId, options);
  }
  reactions(messageIds: string[]) {
    return messages.reactions(this.#m, messageIds);
  }
  hiddenMessageIds(userId: string, messageIds: string[]) {
    return messages.hiddenMessageIds(this.#m, userId, messageIds);
  }
  hideMessage(userId: string, message: Parameters<typeof messages.hideMessage>[2]) {
    return messages.hideMessage(this.#m, userId, message);
  }
  advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ) {
    return markers.advanceMarker(this.#m, conversationId, userId, kind, seq, at);
  }
  receipts(conversationId: string, seq: number) {
    return markers.receipts(this.#m, conversationId, seq);
  }

  appendAudit(entry: AuditEntry) {
    return audit.appendAudit(this.#m, entry);
  }
  listAudit(options: { limit: number; before?: string; action?: string; actorId?: string }) {
    return audit.listAudit(this.#m, options);
  }

  createMedia(record: MediaRecord) {
    return media.createMedia(this.#m, record);
  }
  getMedia(id: string) {
    return media.getMedia(this.#m, id);
  }
  getMediaMany(ids: string[]) {
    return media.getMediaMany(this.#m, ids);
  }
  updateMedia(id: string, patch: MediaPatch, options: { whenStatus?: MediaStatus } = {}) {
    return media.updateMedia(this.#m, id, patch, options.whenStatus);
  }
  claimMedia(id: string, claim: MediaClaim) {
    return media.claimMedia(this.#m, id, claim);
  }
  listMediaByStatus(status: MediaStatus, options: { limit: number; afterId?: string }) {
    return media.listMediaByStatus(this.#m, status, options);
  }
  deleteMedia(id: string) {
    return media.deleteMedia(this.#m, id);
  }
  canSeeMedia(userId: string, mediaId: string) {
    return media.canSeeMedia(this.#m, userId, mediaId);
  }
  isMediaReferenced(mediaId: string) {
    return media.isMediaReferenced(this.#m, mediaId);
  }

  allSessions(userId: string) {
    return privacy.allSessions(this.#m, userId);
  }
  listSentMessages(userId: string, options: { limit: number; after?: SentCursor }) {
    return privacy.listSentMessages(this.#m, userId, options);
  }
  listUserReactions(userId: string, options: { limit: number; after?: ReactionCursor }) {
    return privacy.listUserReactions(this.#m, userId, options);
  }
  listMediaByOwner(ownerId: string, options: { limit: number; afterId?: string }) {
    return privacy.listMediaByOwner(this.#m, ownerId, options);
  }
  beginErasure(userId: string, start: ErasureStart) {
    return privacy.beginErasure(this.#m, userId, start);
  }
  finishErasure(userId: string, at: string) {
    return privacy.finishErasure(this.#m, userId, at);
  }
  pendingErasures(before: string, limit: number) {
    return privacy.pendingErasures(this.#m, before, limit);
  }
  /**
   * Nothing to do here: WiredTiger reuses the space of deleted documents, and what an erasure removed
   * is unreadable in any copy because the user's data keys are gone. Reclaiming disk space
   * (`compact`) is an operator's task.
   */
  scrub() {
    return Promise.resolve();
  }
  retentionConversations(options: { limit: number; afterId?: string }) {
    return privacy.retentionConversations(this.#m, options);
  }
  sweepRetention(conversationId: string, cutoff: string, limit: number) {
    return privacy.sweepRetention(this.#m, conversationId, cutoff, limit);
  }

  createExport(record: DataExportRecord) {
    return exports.createExport(this.#m, record);
  }
  getExport(id: string) {
    return exports.getExport(this.#m, id);
  }
  updateExport(id: string, patch: DataExportPatch, options: { whenStatus?: ExportStatus } = {}) {
    return exports.updateExport(this.#m, id, patch, options.whenStatus);
  }
  listExports(userId: string) {
    return exports.listExports(this.#m, userId);
  }
  dueExports(now: string, limit: number) {
    return exports.dueExports(this.#m, now, limit);
  }
  deleteExport(id: string) {
    return exports.deleteExport(this.#m, id);
  }

  markActive(day: string, userIds: string[]) {
    return activity.markActive(this.#m, day, userIds);
  }
  countActive(days: string[]) {
    return activity.countActive(this.#m, days);
  }
  addDailyCounts(day: string, counts: Partial<Record<DailyCounter, number>>) {
    return activity.addDailyCounts(this.#m, day, counts);
  }
  dailyCounts(days: string[]) {
    return activity.dailyCounts(this.#m, days);
  }
}
