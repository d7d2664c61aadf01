import { Binary } from "mongodb";
import { conflict } from "../../domain/errors.ts";
import type { Session, User } from "../../domain/types.ts";
import type { NewUser, RefreshOutcome, UserKeyRecord, UserPatch } from "../store.ts";
import { isDuplicateKey, type Mongo, partialEq } from "./_db.ts";
import {
  foldName,
  sessionDoc,
  toSession,
  toUser,
  toUserKey,
  userDoc,
  userKeyDoc,
} from "./codec.ts";
import { type UserDoc } from "./schema.ts";

export async function createUser(m: Mongo, u: NewUser): Promise<User> {
  const user: User = {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    avatarMediaId: null,
    statusText: null,
    presence: "online",
    privacy: { lastSeen: "everyone" },
    lastSeenAt: null,
    createdAt: u.createdAt,
    deletedAt: null,
  };
  try {
    await m.users.insertOne(userDoc(user, u.passwordHash));
  } catch (err) {
    if (isDuplicateKey(err)) throw conflict("That username is taken");
    throw err;
  }
  return user;
}

export async function getUser(m: Mongo, id: string): Promise<User | null> {
  const d = await m.users.findOne({ _id: id });
  return d ? toUser(d) : null;
}

export async function getUsers(m: Mongo, ids: string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return (await m.users.find({ _id: { $in: ids } }).toArray()).map(toUser);
}

export async function getUserByUsername(m: Mongo, username: string): Promise<User | null> {
  const d = await m.users.findOne({ username });
  return d ? toUser(d) : null;
}

export async function getPasswordHash(m: Mongo, userId: string): Promise<string | null> {
  const d = await m.users.findOne(
    { _id: userId, deletedAt: null },
    { projection: { passwordHash: 1 } },
  );
  return d ? d.passwordHash : null;
}

export async function searchUsers(
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

export async function updateUser(m: Mongo, id: string, patch: UserPatch): Promise<User> {
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
  if (patch.role !== undefined) set.role = patch.role;
  if (patch.lastSeenAt !== undefined) set.lastSeenAt = patch.lastSeenAt;
  if (Object.keys(set).length > 0) {
    try {
      await m.users.updateOne({ _id: id }, { $set: set });
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict("That username is taken");
      throw err;
    }
  }
  return (await getUser(m, id))!;
}

export async function createSession(m: Mongo, s: Session, refreshHash: string): Promise<void> {
  // The session first: a token never points at a session that is not there.
  await m.sessions.insertOne(sessionDoc(s));
  await m.refreshTokens.insertOne({
    _id: refreshHash,
    sessionId: s.id,
    createdAt: s.createdAt,
    usedAt: null,
  });
}

export async function getSession(m: Mongo, id: string): Promise<Session | null> {
  const d = await m.sessions.findOne({ _id: id });
  return d ? toSession(d) : null;
}

export async function listSessions(m: Mongo, userId: string, now: string): Promise<Session[]> {
  const docs = await m.sessions.find({ userId, revokedAt: null, expiresAt: { $gt: now } })
    .sort({ createdAt: -1, _id: -1 }).toArray();
  return docs.map(toSession);
}

export async function revokeSession(m: Mongo, id: string, at: string): Promise<boolean> {
  const r = await m.sessions.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
  return r.matchedCount > 0;
}

export async function revokeUserSessions(
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
  return ids;
}

/**
 * The token is claimed with one conditional update (`usedAt: null` → now), so of two racing
 * exchanges exactly one rotates and the other is a reuse, as in a serial run.
 */
export async function rotateRefreshToken(
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
    await m.sessions.updateOne({ _id: session.id }, { $set: { revokedAt: now } });
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

export async function currentUserKey(m: Mongo, userId: string): Promise<UserKeyRecord | null> {
  const d = await m.userKeys.findOne({ currentOf: partialEq(userId) });
  return d ? toUserKey(d) : null;
}

/** Inserts `key` as the user's current key unless one exists; returns whichever is current. */
export async function ensureUserKey(
  m: Mongo,
  userId: string,
  key: UserKeyRecord,
): Promise<UserKeyRecord> {
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

export async function getUserKey(m: Mongo, keyId: string): Promise<UserKeyRecord | null> {
  const d = await m.userKeys.findOne({ _id: keyId });
  return d ? toUserKey(d) : null;
}

export async function userKeysNotWrappedBy(
  m: Mongo,
  kekId: string,
  limit: number,
): Promise<UserKeyRecord[]> {
  const docs = await m.userKeys.find({ kekId: { $ne: kekId } }).sort({ _id: 1 }).limit(limit)
    .toArray();
  return docs.map(toUserKey);
}

export async function rewrapUserKey(
  m: Mongo,
  keyId: string,
  wrapped: Uint8Array,
  kekId: string,
): Promise<void> {
  await m.userKeys.updateOne({ _id: keyId }, { $set: { wrapped: new Binary(wrapped), kekId } });
}
