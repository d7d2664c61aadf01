/**
 * Version tokens by dependency name. A token is opaque and never reused: a dependency that is bumped,
 * or whose token was lost (expired, evicted, Redis restarted empty), gets a token no entry was ever
 * stamped with. A dependency without a version reads as a placeholder: reading never creates a
 * version (so lookups by anyone create no state); writing an entry stamped with the placeholder
 * creates the version, and only while there still is none.
 */
export type Versions = Record<string, string>;

/** The answer of {@link ReadCache.read}. */
export interface CacheLookup {
  /** The entry, when every version it was stamped with is still current; otherwise null. */
  value: string | null;
  /** The current versions of the dependencies asked for. */
  versions: Versions;
}

/**
 * A cache of derived reads whose validity is checked, not hoped for: every entry is stamped with the
 * versions of what it was built from, and is served only while all of them are still current. A
 * writer bumps the versions of what it changed after its change is durable, so an entry built before
 * the change is never served after it.
 *
 * The protocol callers follow (and the contract suite checks):
 * 1. `read(key, deps)` — a hit, or the current versions of `deps`;
 * 2. on a miss, build the value from the store AFTER those versions were read;
 * 3. `write(key, value, versions)` — stamped with the versions read in step 1 (a stamp that is already
 *    stale makes an entry that is never served, so a slow builder cannot publish an old value);
 * 4. writers commit, then `bump` the dependencies they changed.
 *
 * Every adapter passes `tests/cache/cache_contract.ts`. Adapters shared by instances (Redis) make a
 * bump on one instance visible to all; the in-process adapter serves a single instance only.
 */
export interface ReadCache {
  readonly kind: "memory" | "redis";
  /**
   * One round trip: the entry under `key` if still valid, and the current versions of `deps` and of
   * {@link EPOCH} (which every entry depends on, so stamps made from these versions carry it).
   */
  read(key: string, deps: string[]): Promise<CacheLookup>;
  /** The current versions of `deps` and of {@link EPOCH}. */
  versions(deps: string[]): Promise<Versions>;
  /**
   * Stores `value` under `key`, stamped with `stamp`, for at most `ttlMs` — only when the stamp is
   * still current: a stale one would never be served and must not replace a valid entry.
   */
  write(key: string, value: string, stamp: Versions, ttlMs: number): Promise<void>;
  /** Gives each dependency a new version: entries stamped with an old one are never served again. */
  bump(deps: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The dependency every entry has (adapters add it to the versions they report): bumping it
 * invalidates the whole cache.
 */
export const EPOCH = "epoch";

/** The dependency of everything derived from a conversation's shared state (bumped by its commits). */
export function conversationDep(conversationId: string): string {
  return `c:${conversationId}`;
}

/**
 * The dependency of everything derived from one user's own state: their memberships, read markers,
 * mute and archive flags, and the messages they deleted for themselves.
 */
export function userDep(userId: string): string {
  return `u:${userId}`;
}
