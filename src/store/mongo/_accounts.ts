import { Binary } from "mongodb";
import type { Session, User } from "../../domain/types.ts";
import type {
  AccountStore,
  CreateUserOutcome,
  NewUser,
  RefreshOutcome,
  UpdateUserOutcome,
  UserKeyRecord,
  UserPatch,
} from "../accounts.ts";
import { isDuplicateKey, type Mongo, partialEq } from "./_db.ts";
import { deleteSessionSubscriptions } from "./_push.ts";
import {
  foldName,
  sessionDoc,
  suspensionDoc,
  toSession,
  toUser,
  toUserKey,
  userDoc,
  userKeyDoc,
} from "./codec.ts";
import { type UserDoc } from "./schema.ts";

async function createUser(m: Mongo, u: NewUser): Promise<CreateUserOutcome> {
  const user: User = {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    avatarMediaId: null,
    statusText: null,
    presence: "online",
    privacy: {
      lastSeen: "everyone",
      readReceipts: true,
      directMessages: "everyone",
      groupAdds: "everyone",
    },
    lastSeenAt: null,
    createdAt: u.createdAt,
    deletedAt: null,
    suspension: null,
  };
  try {
    await m.users.insertOne(userDoc(user, u.passwordHash));
  } catch (err) {
    if (isDuplicateKey(err)) return { status: "username_taken" };
    throw err;
  }
  return { status: "created", user };
}

async function getUser(m: Mongo, id: string): Promise<User | null> {
  const d = await m.users.findOne({ _id: id });
  return d ? toUser(d) : null;
}

async function getUsers(m: Mongo, ids: string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return (await m.users.find({ _id: { $in: ids } }).toArray()).map(toUser);
}

async function getUserByUsername(m: Mongo, username: string): Promise<User | null> {
  const d = await m.users.findOne({ username });
  return d ? toUser(d) : null;
}

async function getPasswordHash(m: Mongo, userId: string): Promise<string | null> {
  const d = await m.users.findOne(
    { _id: userId, deletedAt: null },
    { projection: { passwordHash: 1 } },
  );
  return d ? d.passwordHash : null;
}

async function setPasswordHash(m: Mongo, userId: string, hash: string): Promise<void> {
  await m.users.updateOne({ _id: userId }, { $set: { passwordHash: hash } });
}

async function searchUsers(
  m: Mongo,
  prefix: string,
  options: { limit: number; afterUsername?: string },
): Promise<User[]> {
  const range = { $gte: prefix, $lt: prefix + "\u{10FFFF}" };
  const docs = await m.users.find({
    deletedAt: null,
    username: { $gt: options.afterUsername ?? "" },
    $or: [{ username: range }, { displayNameFold: range }],
  }).sort({ username: 1 }).limit(options.limit).toArray();
  return docs.map(toUser);
}

async function updateUser(m: Mongo, id: string, patch: UserPatch): Promise<UpdateUserOutcome> {
  const set: Partial<UserDoc> = {};
  if (patch.username !== undefined) set.username = patch.username;
  if (patch.displayName !== undefined) {
    set.displayName = patch.displayName;
    set.displayNameFold = foldName(patch.displayName);
  }
  if (patch.avatarMediaId !== undefined) set.avatarMediaId = patch.avatarMediaId;
  if (patch.statusText !== undefined) set.statusText = patch.statusText;
  if (patch.presence !== undefined) set.presence = patch.presence;
  if (patch.privacyLastSeen !== undefined) set.privacyLastSeen = patch.privacyLastSeen;
  if (patch.privacyReadReceipts !== undefined) set.privacyReadReceipts = patch.privacyReadReceipts;
  if (patch.privacyDirectMessages !== undefined) {
    set.privacyDirectMessages = patch.privacyDirectMessages;
  }
  if (patch.privacyGroupAdds !== undefined) set.privacyGroupAdds = patch.privacyGroupAdds;
  if (patch.role !== undefined) set.role = patch.role;
  if (patch.lastSeenAt !== undefined) set.lastSeenAt = patch.lastSeenAt;
  // The whole suspension at once (null lifts it), so its fields never mix two suspensions.
  if (patch.suspension !== undefined) set.suspension = suspensionDoc(patch.suspension);
  if (Object.keys(set).length > 0) {
    try {
      await m.users.updateOne({ _id: id }, { $set: set });
    } catch (err) {
      // The username's is the only unique index an update can break.
      if (isDuplicateKey(err)) return { status: "username_taken" };
      throw err;
    }
  }
  const user = await getUser(m, id);
  return user ? { status: "updated", user } : { status: "missing" };
}

async function createSession(m: Mongo, s: Session, refreshHash: string): Promise<void> {
  // The session first: a token never points at a session that is not there.
  await m.sessions.insertOne(sessionDoc(s));
  await m.refreshTokens.insertOne({
    _id: refreshHash,
    sessionId: s.id,
    createdAt: s.createdAt,
    usedAt: null,
  });
}

async function getSession(m: Mongo, id: string): Promise<Session | null> {
  const d = await m.sessions.findOne({ _id: id });
  return d ? toSession(d) : null;
}

async function listSessions(m: Mongo, userId: string, now: string): Promise<Session[]> {
  const docs = await m.sessions.find({ userId, revokedAt: null, expiresAt: { $gt: now } })
    .sort({ createdAt: -1, _id: -1 }).toArray();
  return docs.map(toSession);
}

async function touchSession(m: Mongo, id: string, at: string): Promise<void> {
  await m.sessions.updateOne({ _id: id }, { $set: { lastSeenAt: at } });
}

async function revokeSession(m: Mongo, id: string, at: string): Promise<boolean> {
  const r = await m.sessions.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
  if (r.matchedCount === 0) return false;
  await deleteSessionSubscriptions(m, [id]);
  await recordRevocations(m, [id]);
  return true;
}

/**
 * Records that these sessions were revoked or deleted, stamped with this instance's clock now (as
 * SQLite's triggers stamp the database's), after the write that did it.
 */
export async function recordRevocations(m: Mongo, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const at = new Date().toISOString();
  await m.sessionRevocations.insertMany(sessionIds.map((sessionId) => ({ sessionId, at })));
}

async function revokedSessionsSince(m: Mongo, since: string): Promise<string[]> {
  return await m.sessionRevocations.distinct("sessionId", { at: { $gte: since } });
}

async function purgeRevocations(m: Mongo, before: string): Promise<number> {
  return (await m.sessionRevocations.deleteMany({ at: { $lt: before } })).deletedCount;
}

async function revokeUserSessions(
  m: Mongo,
  userId: string,
  at: string,
  except?: string,
): Promise<string[]> {
  const filter = except === undefined
    ? { userId, revokedAt: null }
    : { userId, revokedAt: null, _id: { $ne: except } };
  const ids = await m.sessions.distinct("_id", filter);
  if (ids.length === 0) return [];
  await m.sessions.updateMany({ _id: { $in: ids }, revokedAt: null }, { $set: { revokedAt: at } });
  await deleteSessionSubscriptions(m, ids);
  // All of them, even one a racing revoke got to first: a second record of it is harmless.
  await recordRevocations(m, ids);
  return ids;
}

/**
 * The token is claimed with one conditional update (`usedAt: null` → now), so of two racing
 * exchanges exactly one rotates and the other is a reuse, as in a serial run.
 */
async function rotateRefreshToken(
  m: Mongo,
  oldHash: string,
  newHash: string,
  now: string,
  expiresAt: string,
): Promise<RefreshOutcome> {
  const token = await m.refreshTokens.findOne({ _id: oldHash });
  if (!token) return { status: "invalid" };
  const session = await getSession(m, token.sessionId);
  if (!session || session.revokedAt || session.expiresAt <= now) return { status: "invalid" };
  const claimed = token.usedAt === null &&
    await m.refreshTokens.findOneAndUpdate(
      { _id: oldHash, usedAt: null },
      { $set: { usedAt: now } },
      { returnDocument: "after" },
    );
  if (!claimed) {
    // Only while still live: of two racing revokes, the one that revoked it records it.
    const r = await m.sessions.updateOne(
      { _id: session.id, revokedAt: null },
      { $set: { revokedAt: now } },
    );
    if (r.modifiedCount > 0) {
      await deleteSessionSubscriptions(m, [session.id]);
      await recordRevocations(m, [session.id]);
    }
    return { status: "reused", session: { ...session, revokedAt: now } };
  }
  await m.refreshTokens.insertOne({
    _id: newHash,
    sessionId: session.id,
    createdAt: now,
    usedAt: null,
  });
  await m.sessions.updateOne({ _id: session.id }, { $set: { lastSeenAt: now, expiresAt } });
  return { status: "rotated", session: { ...session, lastSeenAt: now, expiresAt } };
}

async function currentUserKey(m: Mongo, userId: string): Promise<UserKeyRecord | null> {
  const d = await m.userKeys.findOne({ currentOf: partialEq(userId) });
  return d ? toUserKey(d) : null;
}

/**
 * The user's current key; else inserts the one `make` builds, unless another instance inserted one
 * first; returns whichever is current.
 */
async function ensureUserKey(
  m: Mongo,
  userId: string,
  make: () => Promise<UserKeyRecord>,
): Promise<UserKeyRecord> {
  const existing = await currentUserKey(m, userId);
  if (existing) return existing;
  const key = await make();
  try {
    await m.userKeys.insertOne(userKeyDoc({ ...key, userId }, null));
  } catch (err) {
    // Another instance created the user's key first (unique `currentOf`): theirs is the one.
    const current = isDuplicateKey(err) ? await currentUserKey(m, userId) : null;
    if (!current) throw err;
    return current;
  }
  return (await currentUserKey(m, userId))!;
}

async function getUserKey(m: Mongo, keyId: string): Promise<UserKeyRecord | null> {
  const d = await m.userKeys.findOne({ _id: keyId });
  return d ? toUserKey(d) : null;
}

async function userKeysNotWrappedBy(
  m: Mongo,
  kekId: string,
  limit: number,
): Promise<UserKeyRecord[]> {
  const docs = await m.userKeys.find({ kekId: { $ne: kekId } }).sort({ _id: 1 }).limit(limit)
    .toArray();
  return docs.map(toUserKey);
}

async function rewrapUserKey(
  m: Mongo,
  keyId: string,
  wrapped: Uint8Array,
  kekId: string,
): Promise<void> {
  await m.userKeys.updateOne({ _id: keyId }, { $set: { wrapped: new Binary(wrapped), kekId } });
}

/**
 * The MongoDB {@link AccountStore}: users, sessions with their refresh tokens, and data keys. The
 * unique `username` index keeps usernames unique, one conditional update claims a refresh token, and
 * the unique `currentOf` index keeps one current data key per user.
 */
export class MongoAccounts implements AccountStore {
  constructor(private readonly m: Mongo) {}

  createUser(user: NewUser) {
    return createUser(this.m, user);
  }
  getUser(id: string) {
    return getUser(this.m, id);
  }
  getUsers(ids: string[]) {
    return getUsers(this.m, ids);
  }
  getUserByUsername(username: string) {
    return getUserByUsername(this.m, username);
  }
  getPasswordHash(userId: string) {
    return getPasswordHash(this.m, userId);
  }
  setPasswordHash(userId: string, hash: string) {
    return setPasswordHash(this.m, userId, hash);
  }
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }) {
    return searchUsers(this.m, prefix, options);
  }
  updateUser(id: string, patch: UserPatch) {
    return updateUser(this.m, id, patch);
  }

  createSession(session: Session, refreshHash: string) {
    return createSession(this.m, session, refreshHash);
  }
  getSession(id: string) {
    return getSession(this.m, id);
  }
  listSessions(userId: string, now: string) {
    return listSessions(this.m, userId, now);
  }
  touchSession(id: string, at: string) {
    return touchSession(this.m, id, at);
  }
  revokeSession(id: string, at: string) {
    return revokeSession(this.m, id, at);
  }
  revokedSessionsSince(since: string) {
    return revokedSessionsSince(this.m, since);
  }
  purgeRevocations(before: string) {
    return purgeRevocations(this.m, before);
  }
  revokeUserSessions(userId: string, at: string, options: { except?: string } = {}) {
    return revokeUserSessions(this.m, userId, at, options.except);
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: string, expiresAt: string) {
    return rotateRefreshToken(this.m, oldHash, newHash, now, expiresAt);
  }

  ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
    return ensureUserKey(this.m, userId, make);
  }
  getUserKey(keyId: string) {
    return getUserKey(this.m, keyId);
  }
  userKeysNotWrappedBy(kekId: string, limit: number) {
    return userKeysNotWrappedBy(this.m, kekId, limit);
  }
  rewrapUserKey(keyId: string, wrapped: Uint8Array, kekId: string) {
    return rewrapUserKey(this.m, keyId, wrapped, kekId);
  }
}
