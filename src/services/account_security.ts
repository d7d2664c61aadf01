import type { Config } from "../config.ts";
import type { PasswordHasher } from "../crypto/passwords.ts";
import {
  AppError,
  forbidden,
  rateLimited,
  unauthorized,
  unavailable,
  validationFailed,
} from "../domain/errors.ts";
import { normalizePassword, passwordProblems } from "../domain/profile.ts";
import type { User } from "../domain/types.ts";
import type { RateLimiter, RateRule } from "../limits/rate_limit.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Actor, RequestMeta } from "../domain/actor.ts";
import { accountBucket, type AuthService } from "./auth.ts";

/**
 * Password re-entry before sensitive actions (erasure, password change) and the password change
 * itself. A wrong password is 403 (the caller is signed in; the token is fine) and counts against the
 * same per-account bucket as failed logins, so a stolen access token cannot be used to guess the
 * password faster than a login could.
 */
export class AccountSecurity {
  readonly #rule: RateRule;

  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<Store, "accounts">;
      hasher: PasswordHasher;
      limiter: RateLimiter;
      auth: AuthService;
      audit: AuditLog;
    },
  ) {
    this.#rule = {
      capacity: deps.config.limits.loginFailuresPerAccount,
      windowSeconds: deps.config.limits.loginWindowSeconds,
    };
  }

  /**
   * Checks the caller's current password; returns their account. 403 `forbidden` when it is wrong
   * (audited as `password.check_failed`), 429 after too many failures.
   */
  async confirmPassword(actor: Actor, password: string, meta: RequestMeta): Promise<User> {
    const user = await this.deps.store.accounts.getUser(actor.userId);
    if (!user || user.deletedAt) throw unauthorized("Account not found");
    const bucket = accountBucket(user.username);
    const peek = await this.#limit(bucket, 0);
    if (!peek.allowed) {
      throw rateLimited(peek.retryAfterSeconds, "Too many wrong passwords; try again later");
    }
    const hash = await this.deps.store.accounts.getPasswordHash(user.id);
    const ok = hash !== null &&
      await this.deps.hasher.verify(hash, normalizePassword(password));
    if (!ok) {
      await this.#limit(bucket, 1);
      await this.deps.audit.record({
        action: "password.check_failed",
        actorId: user.id,
        targetId: user.id,
        meta,
      });
      throw forbidden("The password is not correct");
    }
    return user;
  }

  /**
   * Replaces the caller's password after checking the current one, and revokes every other session
   * (their sockets close); the calling session stays signed in. Audited as `password.changed`.
   */
  async changePassword(
    actor: Actor,
    input: { currentPassword: string; newPassword: string },
    meta: RequestMeta,
  ): Promise<void> {
    const problems = passwordProblems(input.newPassword, "newPassword");
    if (problems.length) throw validationFailed(problems);
    const user = await this.confirmPassword(actor, input.currentPassword, meta);
    const hash = await this.deps.hasher.hash(normalizePassword(input.newPassword));
    await this.deps.store.accounts.setPasswordHash(user.id, hash);
    const revoked = await this.deps.auth.revokeAll(user.id, { except: actor.sessionId });
    await this.deps.audit.record({
      action: "password.changed",
      actorId: user.id,
      targetId: user.id,
      meta,
      details: { otherSessionsRevoked: revoked },
    });
  }

  /** Fails closed, as login does: without the limiter there is no password check. */
  async #limit(key: string, cost: number) {
    try {
      return await this.deps.limiter.take(key, this.#rule, cost);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unavailable("Password checks are temporarily unavailable; try again shortly");
    }
  }
}
