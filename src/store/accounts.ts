import type {
  GlobalRole,
  LastSeenPrivacy,
  Presence,
  ReachPrivacy,
  Session,
  Suspension,
  User,
} from "../domain/types.ts";

/** Fields of a new account. `username` is already folded and validated. */
export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  role: GlobalRole;
  createdAt: string;
}

/** A partial update of a profile; `undefined` leaves a field alone, `null` clears it. */
export interface UserPatch {
  username?: string;
  displayName?: string;
  avatarMediaId?: string | null;
  statusText?: string | null;
  presence?: Presence;
  privacyLastSeen?: LastSeenPrivacy;
  privacyReadReceipts?: boolean;
  privacyDirectMessages?: ReachPrivacy;
  privacyGroupAdds?: ReachPrivacy;
  role?: GlobalRole;
  lastSeenAt?: string;
  /** Suspends the account (or lifts the suspension with null). */
  suspension?: Suspension | null;
}

/** What became of a new account: created, or refused because the (folded) username is in use. */
export type CreateUserOutcome = { status: "created"; user: User } | { status: "username_taken" };

/** What became of a profile update: the updated user, no such user, or a username in use. */
export type UpdateUserOutcome =
  | { status: "updated"; user: User }
  | { status: "missing" }
  | { status: "username_taken" };

/** What became of a presented refresh token. */
export type RefreshOutcome =
  | { status: "rotated"; session: Session }
  | { status: "reused"; session: Session }
  | { status: "invalid" };

/** A per-user data key, stored only wrapped by a key-encryption key of the keyring. */
export interface UserKeyRecord {
  id: string;
  userId: string;
  wrapped: Uint8Array;
  kekId: string;
  createdAt: string;
}

/**
 * Accounts: users and their profiles, sessions with their refresh tokens, and per-user data keys.
 * Part of {@link import("./store.ts").Store}.
 *
 * Guarantees: usernames are unique (stored folded to lower case); a refresh token is exchanged at
 * most once; a user has at most one current data key.
 */
export interface AccountStore {
  createUser(user: NewUser): Promise<CreateUserOutcome>;
  getUser(id: string): Promise<User | null>;
  getUsers(ids: string[]): Promise<User[]>;
  getUserByUsername(username: string): Promise<User | null>;
  getPasswordHash(userId: string): Promise<string | null>;
  setPasswordHash(userId: string, hash: string): Promise<void>;
  /** Users whose username or display name starts with `prefix` (folded), by username. */
  searchUsers(prefix: string, options: { limit: number; afterUsername?: string }): Promise<User[]>;
  updateUser(id: string, patch: UserPatch): Promise<UpdateUserOutcome>;

  createSession(session: Session, refreshHash: string): Promise<void>;
  getSession(id: string): Promise<Session | null>;
  /** Live (not revoked, not expired) sessions of a user, newest first. */
  listSessions(userId: string, now: string): Promise<Session[]>;
  touchSession(id: string, at: string): Promise<void>;
  /** Revokes one session; false when it did not exist or was already revoked. */
  revokeSession(id: string, at: string): Promise<boolean>;
  /**
   * Sessions revoked or deleted at or after `since` (by the store's clock), for instances that poll
   * so a revocation reaches them even when pub/sub does not. Recorded by every revoking write.
   */
  revokedSessionsSince(since: string): Promise<string[]>;
  /** Forgets revocation records older than `before`; returns how many. */
  purgeRevocations(before: string): Promise<number>;
  /** Revokes every live session of a user (but `except`) and returns their ids. */
  revokeUserSessions(userId: string, at: string, options?: { except?: string }): Promise<string[]>;
  /**
   * Exchanges a refresh token (by hash) for a new one in one atomic step, sliding the session's expiry
   * to `expiresAt`. A token that was already used revokes its whole session and reports `reused`.
   */
  rotateRefreshToken(
    oldHash: string,
    newHash: string,
    now: string,
    expiresAt: string,
  ): Promise<RefreshOutcome>;

  /** The user's current data key, creating it from `make` if there is none (race-free). */
  ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>): Promise<UserKeyRecord>;
  getUserKey(keyId: string): Promise<UserKeyRecord | null>;
  /** Data keys still wrapped by a key-encryption key other than `kekId` (for rotation). */
  userKeysNotWrappedBy(kekId: string, limit: number): Promise<UserKeyRecord[]>;
  rewrapUserKey(keyId: string, wrapped: Uint8Array, kekId: string): Promise<void>;
}
