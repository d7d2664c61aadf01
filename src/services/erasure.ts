import type { DataKeys } from "../crypto/envelope.ts";
import { AppError } from "../domain/errors.ts";
import { ERASED_DISPLAY_NAME, erasedUsername } from "../domain/privacy.ts";
import { nowIso } from "../ids.ts";
import type { RateLimiter } from "../limits/rate_limit.ts";
import type { Logger } from "../observability/logger.ts";
import type { Counter, MetricsRegistry } from "../observability/metrics.ts";
import type { ReactionCursor, SentCursor } from "../store/privacy.ts";
import type { Change, Store } from "../store/store.ts";
import type { AccountSecurity } from "./account_security.ts";
import type { AuditLog } from "./audit.ts";
import type { Actor, RequestMeta } from "../domain/actor.ts";
import { accountBucket, type AuthService } from "./auth.ts";
import type { ConversationMembers } from "./conversation_members.ts";
import type { DataExports } from "./data_exports.ts";
import type { LegalHolds } from "./legal_holds.ts";
import type { EventLog } from "./events.ts";
import type { UserData } from "./user_data.ts";
import type { MediaService } from "./media.ts";

/** What an erasure removed, as counts (the audit log records these, never content). */
export interface ErasureSummary {
  conversationsLeft: number;
  messagesErased: number;
  reactionsRemoved: number;
  mediaDeleted: number;
}

const PAGE = 200;
/** An erasure this old that never completed belongs to a crashed instance: the sweep resumes it. */
const RESUME_AFTER_MS = 10 * 60_000;

/**
 * Account erasure (GDPR art. 17). After the password is re-entered: every session is revoked and its
 * sockets closed; the account is scrubbed (username freed for an unusable placeholder, profile and
 * avatar cleared) and its data keys destroyed in one step, so every copy of the user's content, in
 * backups too, is unreadable from then on (crypto-shredding). Then, with the usual durable events so
 * other members' clients stay consistent: the user leaves every conversation (ownership passes on as
 * when an owner leaves), every message they sent becomes a tombstone (`message.deleted`), their
 * reactions are removed (`reaction.updated`); their media and data exports are deleted; what is left
 * is erased in bulk, the erasure marked complete, the store scrubbed (SQLite WAL truncated) and the
 * erasure audited with counts only. An erasure cut short by a crash is resumed by the sweep.
 */
export class AccountErasure {
  readonly #erasures: Counter;

  constructor(
    private readonly deps: {
      store: Pick<Store, "privacy">;
      security: AccountSecurity;
      auth: AuthService;
      dataKeys: DataKeys;
      members: ConversationMembers;
      events: EventLog;
      /** Features with data of their own about users, removed with the account. */
      userData: readonly UserData[];
      media: MediaService;
      exports: DataExports;
      /** Keeps what legal holds need of the account before its keys are destroyed. */
      holds: Pick<LegalHolds, "preserveForErasure">;
      limiter: RateLimiter;
      audit: AuditLog;
      logger: Logger;
      metrics: MetricsRegistry;
    },
  ) {
    this.#erasures = deps.metrics.counter("parley_erasures_total", "Accounts erased");
  }

  /** Erases the caller's account once `password` is confirmed (403 when wrong). */
  async erase(actor: Actor, password: string, meta: RequestMeta): Promise<ErasureSummary> {
    const user = await this.deps.security.confirmPassword(actor, password, meta);
    // First: no token of theirs works any more and their sockets close, on every instance.
    await this.deps.auth.revokeAll(user.id);
    await this.deps.limiter.reset(accountBucket(user.username)).catch(() => {});
    const summary = await this.#erase(user.id);
    await this.#done(user.id, summary, meta);
    return summary;
  }

  /** Completes erasures that began before `now` minus ten minutes and never finished. */
  async resumePending(now: Date): Promise<number> {
    const before = new Date(now.getTime() - RESUME_AFTER_MS).toISOString();
    const ids = await this.deps.store.privacy.pendingErasures(before, 20);
    for (const id of ids) {
      try {
        await this.#done(id, await this.#erase(id));
      } catch (err) {
        this.deps.logger.error("erasure could not be resumed", {
          "user.id": id,
          "error.message": err instanceof Error ? err.message : String(err),
        });
      }
    }
    return ids.length;
  }

  async #done(userId: string, summary: ErasureSummary, meta?: RequestMeta): Promise<void> {
    this.#erasures.inc();
    await this.deps.audit.record({
      action: "user.erased",
      actorId: userId,
      targetId: userId,
      meta,
      details: { ...summary },
    });
    // Last, so nothing written before (the audit entry included) stays in an older WAL frame.
    await this.deps.store.privacy.scrub();
  }

  async #erase(userId: string): Promise<ErasureSummary> {
    const { store } = this.deps;
    // While the keys still exist: what legal holds must keep is re-sealed under the holds' keys.
    await this.deps.holds.preserveForErasure(userId);
    const begun = await store.privacy.beginErasure(userId, {
      at: nowIso(),
      username: erasedUsername(userId),
      displayName: ERASED_DISPLAY_NAME,
    });
    if (!begun) throw new Error(`erasure of unknown user ${userId}`);
    this.deps.dataKeys.forget(userId, begun.keyIds);
    // Data of its own a feature keeps (scheduled messages…) goes first: nothing of it may act later.
    for (const data of this.deps.userData) await data.eraseUser(userId);
    const summary: ErasureSummary = {
      conversationsLeft: await this.#leaveAll(userId),
      messagesErased: await this.#eraseMessages(userId),
      reactionsRemoved: await this.#removeReactions(userId),
      mediaDeleted: await this.deps.media.purgeOwned(userId),
    };
    await this.deps.exports.purgeUser(userId);
    const rest = await store.privacy.finishErasure(userId, nowIso());
    summary.messagesErased += rest.messages;
    summary.reactionsRemoved += rest.reactions;
    return summary;
  }

  /** Leaves every live conversation; repeats for any the user was added to meanwhile. */
  async #leaveAll(userId: string): Promise<number> {
    let left = 0;
    for (let round = 0; round < 3; round++) {
      const heads = await this.deps.events.heads(userId);
      if (heads.length === 0) break;
      for (const { id } of heads) {
        await this.#retry(() => this.deps.members.departErased(userId, id));
        left++;
      }
    }
    return left;
  }

  async #eraseMessages(userId: string): Promise<number> {
    let erased = 0;
    let after: SentCursor | undefined;
    for (;;) {
      const page = await this.deps.store.privacy.listSentMessages(userId, { limit: PAGE, after });
      for (const m of page) {
        const at = nowIso();
        if (
          await this.#commit({
            conversationId: m.conversationId,
            event: "message.deleted",
            actorId: userId,
            messageId: m.id,
            at,
            mutations: [{ op: "eraseMessage", messageId: m.id, deletedAt: at }],
          })
        ) erased++;
      }
      if (page.length < PAGE) return erased;
      after = { conversationId: page.at(-1)!.conversationId, seq: page.at(-1)!.seq };
    }
  }

  async #removeReactions(userId: string): Promise<number> {
    let removed = 0;
    let after: ReactionCursor | undefined;
    for (;;) {
      const page = await this.deps.store.privacy.listUserReactions(userId, { limit: PAGE, after });
      for (const r of page) {
        if (
          await this.#commit({
            conversationId: r.conversationId,
            event: "reaction.updated",
            actorId: userId,
            messageId: r.messageId,
            at: nowIso(),
            data: { userId, emoji: r.emoji, action: "removed" },
            mutations: [{ op: "removeReaction", messageId: r.messageId, userId, emoji: r.emoji }],
          })
        ) removed++;
      }
      if (page.length < PAGE) return removed;
      after = { messageId: page.at(-1)!.messageId, emoji: page.at(-1)!.emoji };
    }
  }

  /**
   * Commits and publishes one change. A deleted conversation (404) takes no events: what is left
   * there is erased in bulk at the end.
   */
  async #commit(change: Change): Promise<boolean> {
    return (await this.deps.events.commitUnlessGone(change)).status === "committed";
  }

  /** Group changes may meet a concurrent one (409): decided again on fresh state, a few times. */
  async #retry(fn: () => Promise<void>): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof AppError && err.status === 409) || attempt >= 5) throw err;
      }
    }
  }
}
