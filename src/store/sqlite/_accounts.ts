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
import { type Db, placeholders, str } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";
import { toSession, toUser, toUserKey } from "./_rows.ts";

/** Folds a display name for prefix search. */
export function foldName(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/.test(err.message);
}

export function createUser(db: Db, u: NewUser): CreateUserOutcome {
  try {
    db.run(
      `INSERT INTO users (id, username, display_name, display_name_fold, password_hash, role, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      u.id,
      u.username,
      u.displayName,
      foldName(u.displayName),
      u.passwordHash,
      u.role,
      u.createdAt,
    );
  } catch (err) {
    if (isUniqueViolation(err)) return { status: "username_taken" };
    throw err;
  }
  return { status: "created", user: getUser(db, u.id)! };
}

export function getUser(db: Db, id: string): User | null {
  const r = db.get("SELECT * FROM users WHERE id = ?", id);
  return r ? toUser(r) : null;
}

export function getUsers(db: Db, ids: string[]): User[] {
  if (ids.length === 0) return [];
  return db.all(`SELECT * FROM users WHERE id IN (${placeholders(ids.length)})`, ...ids).map(
    toUser,
  );
}

export function getUserByUsername(db: Db, username: string): User | null {
  const r = db.get("SELECT * FROM users WHERE username = ?", username);
  return r ? toUser(r) : null;
}

export function getPasswordHash(db: Db, userId: string): string | null {
  const r = db.get("SELECT password_hash FROM users WHERE id = ? AND deleted_at IS NULL", userId);
  return r ? str(r.password_hash) : null;
}

export function searchUsers(
  db: Db,
  prefix: string,
  options: { limit: number; afterUsername?: string },
): User[] {
  const high = prefix + "\u{10FFFF}";
  return db.all(
    `SELECT * FROM users
     WHERE deleted_at IS NULL AND username > ?
       AND ((username >= ? AND username < ?) OR (display_name_fold >= ? AND display_name_fold < ?))
     ORDER BY username LIMIT ?`,
    options.afterUsername ?? "",
    prefix,
    high,
    prefix,
    high,
    options.limit,
  ).map(toUser);
}

export function updateUser(db: Db, id: string, patch: UserPatch): UpdateUserOutcome {
  const sets: string[] = [];
  const params: Array<string | number | null | Uint8Array> = [];
  const put = (col: string, v: string | number | null | Uint8Array | undefined) => {
    if (v === undefined) return;
    sets.push(`${col} = ?`);
    params.push(v);
  };
  put("username", patch.username);
  put("display_name", patch.displayName);
  if (patch.displayName !== undefined) put("display_name_fold", foldName(patch.displayName));
  put("avatar_media_id", patch.avatarMediaId);
  put("status_text", patch.statusText);
  put("presence", patch.presence);
  put("privacy_last_seen", patch.privacyLastSeen);
  if (patch.privacyReadReceipts !== undefined) {
    put("privacy_read_receipts", patch.privacyReadReceipts ? 1 : 0);
  }
  put("privacy_direct_messages", patch.privacyDirectMessages);
  put("privacy_group_adds", patch.privacyGroupAdds);
  put("role", patch.role);
  put("last_seen_at", patch.lastSeenAt);
  if (patch.suspension !== undefined) {
    const x = patch.suspension;
    put("suspended_at", x?.at ?? null);
    put("suspended_until", x?.until ?? null);
    put("suspension_reason", x?.reason?.blob ?? null);
    put("suspension_reason_key", x?.reason?.keyId ?? null);
  }
  if (sets.length > 0) {
    try {
      db.run(`UPDATE users SET ${sets.join(", ")} WHERE id = ?`, ...params, id);
    } catch (err) {
      if (isUniqueViolation(err)) return { status: "username_taken" };
      throw err;
    }
  }
  const user = getUser(db, id);
  return user ? { status: "updated", user } : { status: "missing" };
}

export function createSession(db: Db, s: Session, refreshHash: string): void {
  db.transaction(() => {
    db.run(
      `INSERT INTO sessions (id, user_id, device_name, ip, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      s.userId,
      s.deviceName,
      s.ip,
      s.createdAt,
      s.lastSeenAt,
      s.expiresAt,
    );
    db.run(
      "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)",
      refreshHash,
      s.id,
      s.createdAt,
    );
  });
}

export function getSession(db: Db, id: string): Session | null {
  const r = db.get("SELECT * FROM sessions WHERE id = ?", id);
  return r ? toSession(r) : null;
}

export function listSessions(db: Db, userId: string, now: string): Session[] {
  return db.all(
    `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
     ORDER BY created_at DESC, id DESC`,
    userId,
    now,
  ).map(toSession);
}

export function revokeUserSessions(
  db: Db,
  userId: string,
  at: string,
  options: { except?: string } = {},
): string[] {
  const except = options.except ?? null;
  return db.transaction(() => {
    const ids = db.all(
      "SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?",
      userId,
      except,
    ).map((r) => str(r.id));
    db.run(
      "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?",
      at,
      userId,
      except,
    );
    return ids;
  });
}

function revokedSessionsSince(db: Db, since: string): string[] {
  return db.all(
    "SELECT DISTINCT session_id FROM session_revocations WHERE at >= ?",
    since,
  ).map((r) => str(r.session_id));
}

export function rotateRefreshToken(
  db: Db,
  oldHash: string,
  newHash: string,
  now: string,
  expiresAt: string,
): RefreshOutcome {
  return db.transaction((): RefreshOutcome => {
    const token = db.get("SELECT session_id, used_at FROM refresh_tokens WHERE hash = ?", oldHash);
    if (!token) return { status: "invalid" };
    const session = getSession(db, str(token.session_id));
    if (!session || session.revokedAt || session.expiresAt <= now) return { status: "invalid" };
    if (token.used_at !== null) {
      db.run("UPDATE sessions SET revoked_at = ? WHERE id = ?", now, session.id);
      return { status: "reused", session: { ...session, revokedAt: now } };
    }
    db.run("UPDATE refresh_tokens SET used_at = ? WHERE hash = ?", now, oldHash);
    db.run(
      "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)",
      newHash,
      session.id,
      now,
    );
    db.run(
      "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?",
      now,
      expiresAt,
      session.id,
    );
    return { status: "rotated", session: { ...session, lastSeenAt: now, expiresAt } };
  });
}

export function ensureUserKey(db: Db, userId: string, key: UserKeyRecord): UserKeyRecord {
  db.run(
    `INSERT INTO user_keys (id, user_id, wrapped, kek_id, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id) WHERE retired_at IS NULL DO NOTHING`,
    key.id,
    userId,
    key.wrapped,
    key.kekId,
    key.createdAt,
  );
  return currentUserKey(db, userId)!;
}

export function currentUserKey(db: Db, userId: string): UserKeyRecord | null {
  const r = db.get("SELECT * FROM user_keys WHERE user_id = ? AND retired_at IS NULL", userId);
  return r ? toUserKey(r) : null;
}

/** The account writes, run on the writer thread (see `_writes.ts`). */
export const accountWrites = {
  createUser,
  updateUser,
  setPasswordHash: (db: Db, userId: string, hash: string) =>
    void db.run("UPDATE users SET password_hash = ? WHERE id = ?", hash, userId),
  createSession,
  touchSession: (db: Db, id: string, at: string) =>
    void db.run("UPDATE sessions SET last_seen_at = ? WHERE id = ?", at, id),
  revokeSession: (db: Db, id: string, at: string) =>
    db.run("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", at, id) > 0,
  revokeUserSessions,
  rotateRefreshToken,
  purgeRevocations: (db: Db, before: string) =>
    db.run("DELETE FROM session_revocations WHERE at < ?", before),
  ensureUserKey,
  rewrapUserKey: (db: Db, keyId: string, wrapped: Uint8Array, kekId: string) =>
    void db.run("UPDATE user_keys SET wrapped = ?, kek_id = ? WHERE id = ?", wrapped, kekId, keyId),
};

/** The SQLite {@link AccountStore}: reads on the main connection, writes on the writer thread. */
export function sqliteAccounts(db: Db, writer: Writer): AccountStore {
  return {
    ...bindReads(db, {
      getUser,
      getUsers,
      getUserByUsername,
      getPasswordHash,
      searchUsers,
      getSession,
      listSessions,
      revokedSessionsSince,
      getUserKey: (db: Db, keyId: string) => {
        const r = db.get("SELECT * FROM user_keys WHERE id = ?", keyId);
        return r ? toUserKey(r) : null;
      },
      userKeysNotWrappedBy: (db: Db, kekId: string, limit: number) =>
        db.all("SELECT * FROM user_keys WHERE kek_id != ? ORDER BY id LIMIT ?", kekId, limit)
          .map(toUserKey),
    }),
    ...bindWrites(writer, accountWrites),
    async ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
      return currentUserKey(db, userId) ??
        await writer.write("ensureUserKey", userId, await make());
    },
  };
}
