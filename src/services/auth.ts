import type { Config } from "../config.ts";
import {
  AppError,
  conflict,
  rateLimited,
  suspended,
  unauthorized,
  unavailable,
  validationFailed,
} from "../domain/errors.ts";
import {
  checkDisplayName,
  foldUsername,
  normalizePassword,
  passwordProblems,
  usernameProblems,
} from "../domain/profile.ts";
import type { Session, User } from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { RateLimiter, RateRule } from "../limits/rate_limit.ts";
import type { PasswordHasher } from "../crypto/passwords.ts";
import { hashRefreshToken, newRefreshToken, type TokenService } from "../crypto/tokens.ts";
import type { Store } from "../store/store.ts";
import type { Actor, RequestMeta } from "../domain/actor.ts";
import type { EngagementRecorder } from "./activity.ts";
import type { AuditLog } from "./audit.ts";
import type { SessionGuard } from "./session_guard.ts";

/** Tokens for a new or refreshed session. */
export interface AuthGrant {
  user: User;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const BAD_CREDENTIALS = "Invalid username or password";

/** The rate-limit bucket of an account's failed password checks (logins and re-entries). */
export function accountBucket(username: string): string {
  return `login:account:${username}`;
}

/**
 * Accounts and sessions: registration, login, refresh-token rotation with theft detection, logout and
 * session revocation, and authentication of access tokens. Passwords are hashed in worker threads;
 * failed logins and registrations are rate limited per account and per address.
 */
export class AuthService {
  readonly #loginAccount: RateRule;
  readonly #loginIp: RateRule;
  readonly #register: RateRule;
  /** Login attempts of this instance being verified now, by rate-limit key. */
  readonly #verifying = new Map<string, number>();

  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<Store, "accounts">;
      hasher: PasswordHasher;
      tokens: TokenService;
      limiter: RateLimiter;
      guard: SessionGuard;
      audit: AuditLog;
      activity: EngagementRecorder;
    },
  ) {
    const l = deps.config.limits;
    this.#loginAccount = {
      capacity: l.loginFailuresPerAccount,
      windowSeconds: l.loginWindowSeconds,
    };
    this.#loginIp = { capacity: l.loginFailuresPerIp, windowSeconds: l.loginWindowSeconds };
    this.#register = { capacity: l.registrationsPerIp, windowSeconds: l.registrationWindowSeconds };
  }

  /** Creates an account and its first session. 409 when the (folded) username is taken. */
  async register(
    input: { username: string; password: string; displayName?: string; deviceName?: string },
    meta: RequestMeta,
  ): Promise<AuthGrant> {
    const username = foldUsername(input.username);
    const problems = [...usernameProblems(username), ...passwordProblems(input.password)];
    if (problems.length) throw validationFailed(problems);
    const displayName = checkDisplayName(input.displayName ?? input.username);
    const key = `register:ip:${meta.ip}`;
    const peek = await this.#limit(key, this.#register, 0);
    if (!peek.allowed) {
      throw rateLimited(peek.retryAfterSeconds, "Too many registrations from this address");
    }
    if (await this.deps.store.accounts.getUserByUsername(username)) {
      throw new AppError(409, "conflict", "Conflict", "That username is taken");
    }
    // Taken before the slow hash: a burst of parallel requests must not all pass the peek above.
    const taken = await this.#limit(key, this.#register, 1);
    if (!taken.allowed) {
      throw rateLimited(taken.retryAfterSeconds, "Too many registrations from this address");
    }
    const passwordHash = await this.deps.hasher.hash(normalizePassword(input.password));
    const created = await this.deps.store.accounts.createUser({
      id: newId(),
      username,
      displayName,
      passwordHash,
      role: "user",
      createdAt: nowIso(),
    });
    if (created.status === "username_taken") throw conflict("That username is taken");
    const { user } = created;
    await this.deps.audit.record({
      action: "user.registered",
      actorId: user.id,
      targetId: user.id,
      meta,
    });
    this.deps.activity.registered();
    return await this.#startSession(user, input.deviceName, meta);
  }

  /**
   * Logs in. Unknown user and wrong password give the same 401 after the same work (a dummy hash is
   * verified for unknown users). Failures count against the account and the address.
   */
  async login(
    input: { username: string; password: string; deviceName?: string },
    meta: RequestMeta,
  ): Promise<AuthGrant> {
    const username = foldUsername(input.username);
    const accountKey = accountBucket(username);
    const ipKey = `login:ip:${meta.ip}`;
    // Attempts still being verified may yet fail, so each counts against the buckets until it ends
    // (read in the same tick as the peek); else a burst of parallel guesses all pass the peek before
    // any failure is recorded. More simultaneous attempts than tokens left get 429 at once.
    const held = this.#holdAttempt([accountKey, ipKey]);
    try {
      const [account, ip] = await Promise.all([
        this.#limit(accountKey, this.#loginAccount, 0),
        this.#limit(ipKey, this.#loginIp, 0),
      ]);
      if (
        !account.allowed || !ip.allowed || account.remaining < held[0] || ip.remaining < held[1]
      ) {
        throw rateLimited(
          Math.max(account.retryAfterSeconds, ip.retryAfterSeconds),
          "Too many failed logins; try again later",
        );
      }
      return await this.#checkPassword(input, username, accountKey, ipKey, meta);
    } finally {
      this.#releaseAttempt([accountKey, ipKey]);
    }
  }

  async #checkPassword(
    input: { password: string; deviceName?: string },
    username: string,
    accountKey: string,
    ipKey: string,
    meta: RequestMeta,
  ): Promise<AuthGrant> {
    const password = normalizePassword(input.password);
    const user = usernameProblems(username).length === 0
      ? await this.deps.store.accounts.getUserByUsername(username)
      : null;
    const hash = user && !user.deletedAt
      ? await this.deps.store.accounts.getPasswordHash(user.id)
      : null;
    const ok = hash
      ? await this.deps.hasher.verify(hash, password)
      : await this.deps.hasher.verifyDummy(password);
    if (!ok || !user || !hash) {
      await Promise.all([
        this.#limit(accountKey, this.#loginAccount, 1),
        this.#limit(ipKey, this.#loginIp, 1),
      ]);
      await this.deps.audit.record({
        action: "login.failed",
        actorId: user?.id ?? null,
        targetId: user?.id ?? null,
        meta,
      });
      throw unauthorized(BAD_CREDENTIALS);
    }
    // Told only to whoever knows the password.
    if (user.suspension && (!user.suspension.until || user.suspension.until > nowIso())) {
      await this.deps.audit.record({
        action: "login.refused_suspended",
        actorId: user.id,
        targetId: user.id,
        meta,
      });
      throw suspended(user.suspension.until);
    }
    if (this.deps.hasher.needsRehash(hash)) {
      await this.deps.store.accounts.setPasswordHash(
        user.id,
        await this.deps.hasher.hash(password),
      );
    }
    const grant = await this.#startSession(user, input.deviceName, meta);
    await this.deps.audit.record({
      action: "login.succeeded",
      actorId: user.id,
      targetId: grant.sessionId,
      meta,
    });
    return grant;
  }

  /**
   * Exchanges a refresh token for a new pair. The old token is spent; presenting it again revokes the
   * whole session (someone else has a copy) and answers 401.
   */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<AuthGrant> {
    const next = newRefreshToken();
    const now = new Date();
    const outcome = await this.deps.store.accounts.rotateRefreshToken(
      await hashRefreshToken(refreshToken),
      await hashRefreshToken(next),
      now.toISOString(),
      this.#expiry(now),
    );
    if (outcome.status === "reused") {
      await this.#revoked([outcome.session.id]);
      await this.deps.audit.record({
        action: "session.refresh_reuse",
        actorId: outcome.session.userId,
        targetId: outcome.session.id,
        meta,
      });
      throw unauthorized("Refresh token was already used; the session has been revoked");
    }
    if (outcome.status === "invalid") throw unauthorized("Invalid refresh token");
    const user = await this.deps.store.accounts.getUser(outcome.session.userId);
    if (!user || user.deletedAt) throw unauthorized("Invalid refresh token");
    return {
      user,
      sessionId: outcome.session.id,
      accessToken: await this.#accessToken(user, outcome.session.id),
      refreshToken: next,
      expiresIn: this.deps.config.auth.accessTokenTtlSeconds,
    };
  }

  /** The public keys that verify access tokens (the JWKS document). */
  jwks(): ReturnType<TokenService["jwks"]> {
    return this.deps.tokens.jwks();
  }

  /** Revokes the caller's session: its access tokens stop working and its sockets close. */
  async logout(actor: Actor): Promise<void> {
    await this.deps.store.accounts.revokeSession(actor.sessionId, nowIso());
    await this.#revoked([actor.sessionId]);
  }

  /** The caller's live sessions, marking the current one. */
  async sessions(actor: Actor): Promise<Array<Session & { current: boolean }>> {
    const list = await this.deps.store.accounts.listSessions(actor.userId, nowIso());
    return list.map((s) => ({ ...s, current: s.id === actor.sessionId }));
  }

  /** Revokes one of the caller's sessions; 404 for sessions that are not theirs or already gone. */
  async revokeSession(actor: Actor, sessionId: string): Promise<void> {
    const session = await this.deps.store.accounts.getSession(sessionId);
    if (!session || session.userId !== actor.userId || session.revokedAt) {
      throw new AppError(404, "not_found", "Not found", "Session not found");
    }
    await this.deps.store.accounts.revokeSession(sessionId, nowIso());
    await this.#revoked([sessionId]);
    await this.deps.audit.record({
      action: "session.revoked",
      actorId: actor.userId,
      targetId: sessionId,
    });
  }

  /**
   * Takes from a rate-limit bucket. Login and registration fail closed: when the limiter (Redis) is
   * unreachable they answer 503 rather than let unlimited guessing through.
   */
  async #limit(key: string, rule: RateRule, cost: number) {
    try {
      return await this.deps.limiter.take(key, rule, cost);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unavailable("Sign-in is temporarily unavailable; try again shortly");
    }
  }

  /**
   * Revokes every session of a user but `except` (erasure, password change): their access tokens
   * stop working and their sockets close on every instance. Returns how many were revoked.
   */
  async revokeAll(userId: string, options: { except?: string } = {}): Promise<number> {
    const ids = await this.deps.store.accounts.revokeUserSessions(userId, nowIso(), options);
    await this.#revoked(ids);
    return ids.length;
  }

  /** The actor behind a bearer token; 401 if the token is bad or its session was revoked. */
  async authenticate(token: string): Promise<Actor> {
    const claims = await this.deps.tokens.verify(token);
    await this.deps.guard.check(claims.sessionId, claims.userId);
    this.deps.activity.seen(claims.userId);
    return claims;
  }

  /** Counts a login attempt in flight under each key; returns the counts including it. */
  #holdAttempt(keys: string[]): number[] {
    return keys.map((k) => {
      const n = (this.#verifying.get(k) ?? 0) + 1;
      this.#verifying.set(k, n);
      return n;
    });
  }

  #releaseAttempt(keys: string[]): void {
    for (const k of keys) {
      const n = (this.#verifying.get(k) ?? 1) - 1;
      if (n > 0) this.#verifying.set(k, n);
      else this.#verifying.delete(k);
    }
  }

  /** A new access token for an existing, live session (used when a role changes). */
  async #accessToken(user: User, sessionId: string): Promise<string> {
    return await this.deps.tokens.issue({ userId: user.id, sessionId, role: user.role });
  }

  async #startSession(
    user: User,
    deviceName: string | undefined,
    meta: RequestMeta,
  ): Promise<AuthGrant> {
    const now = new Date();
    const session: Session = {
      id: newId(),
      userId: user.id,
      deviceName: deviceName ? checkDeviceName(deviceName) : null,
      ip: meta.ip,
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: this.#expiry(now),
      revokedAt: null,
    };
    const refreshToken = newRefreshToken();
    await this.deps.store.accounts.createSession(session, await hashRefreshToken(refreshToken));
    return {
      user,
      sessionId: session.id,
      accessToken: await this.#accessToken(user, session.id),
      refreshToken,
      expiresIn: this.deps.config.auth.accessTokenTtlSeconds,
    };
  }

  #expiry(now: Date): string {
    return new Date(now.getTime() + this.deps.config.auth.refreshTokenTtlDays * 86_400_000)
      .toISOString();
  }

  /** Tells every instance the sessions are gone: caches forget them and their sockets close. */
  async #revoked(sessionIds: string[]): Promise<void> {
    await this.deps.guard.invalidate(sessionIds);
  }
}

function checkDeviceName(raw: string): string {
  try {
    return checkDisplayName(raw);
  } catch {
    throw validationFailed([{
      path: "deviceName",
      message: "must be 1-64 characters on one line",
    }]);
  }
}
