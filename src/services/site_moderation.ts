import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor, RequestMeta } from "../domain/actor.ts";
import { forbidden, notFound } from "../domain/errors.ts";
import { futureTime } from "../domain/future_time.ts";
import { checkBlockedWords } from "../domain/words.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import type { AdminService } from "./admin.ts";
import type { AuditLog } from "./audit.ts";
import type { AuthService } from "./auth.ts";
import type { MessagesService } from "./messages.ts";
import { checkReason, MODERATION_KEY_OWNER, suspensionAad } from "./moderation_keys.ts";
import type { SendRules } from "./send_rules.ts";

/** A suspension as site admins see it. */
export interface SuspensionView {
  userId: string;
  suspendedAt: string;
  until: string | null;
  reason: string | null;
}

/**
 * Site administration: suspending accounts (every session revoked, sockets closed on every
 * instance, login refused with 403 `suspended` until lifted or `until`), removing any message for
 * everyone, and the site's blocked words. Every action is audited.
 */
export class SiteModeration {
  constructor(
    private readonly deps: {
      store: Pick<Store, "accounts">;
      admin: AdminService;
      auth: AuthService;
      messages: MessagesService;
      rules: SendRules;
      dataKeys: DataKeys;
      audit: AuditLog;
    },
  ) {}

  async suspend(
    actor: Actor,
    userId: string,
    input: { reason: string; until?: string | null },
    meta: RequestMeta,
  ): Promise<SuspensionView> {
    await this.deps.admin.requireAdmin(actor);
    if (userId === actor.userId) throw forbidden("You cannot suspend yourself");
    const user = await this.deps.store.accounts.getUser(userId);
    if (!user || user.deletedAt) throw notFound("User not found");
    const reason = checkReason(input.reason);
    const until = input.until ? futureTime(input.until, "until") : null;
    const at = nowIso();
    await this.deps.store.accounts.updateUser(userId, {
      suspension: {
        at,
        until,
        reason: await this.deps.dataKeys.sealText(
          MODERATION_KEY_OWNER,
          reason,
          suspensionAad(userId),
        ),
      },
    });
    const revoked = await this.deps.auth.revokeAll(userId);
    await this.deps.audit.record({
      action: "user.suspended",
      actorId: actor.userId,
      targetId: userId,
      meta,
      details: { until, sessionsRevoked: revoked },
    });
    return { userId, suspendedAt: at, until, reason };
  }

  async unsuspend(actor: Actor, userId: string, meta: RequestMeta): Promise<void> {
    await this.deps.admin.requireAdmin(actor);
    const user = await this.deps.store.accounts.getUser(userId);
    if (!user || user.deletedAt) throw notFound("User not found");
    if (!user.suspension) return;
    await this.deps.store.accounts.updateUser(userId, { suspension: null });
    await this.deps.audit.record({
      action: "user.unsuspended",
      actorId: actor.userId,
      targetId: userId,
      meta,
    });
  }

  /** Removes any message for everyone (a `message.deleted` event). */
  async removeMessage(
    actor: Actor,
    conversationId: string,
    messageId: string,
    meta: RequestMeta,
  ): Promise<void> {
    await this.deps.admin.requireAdmin(actor);
    await this.deps.messages.removeAsAdmin(actor.userId, conversationId, messageId);
    await this.deps.audit.record({
      action: "message.removed_by_admin",
      actorId: actor.userId,
      targetId: messageId,
      meta,
      details: { conversationId },
    });
  }

  async blockedWords(actor: Actor): Promise<string[]> {
    await this.deps.admin.requireAdmin(actor);
    return await this.deps.rules.siteWords();
  }

  async setBlockedWords(actor: Actor, words: string[], meta: RequestMeta): Promise<string[]> {
    await this.deps.admin.requireAdmin(actor);
    const checked = checkBlockedWords(words, "words");
    await this.deps.rules.setSiteWords(checked);
    await this.deps.audit.record({
      action: "site.blocked_words_changed",
      actorId: actor.userId,
      meta,
      details: { count: checked.length },
    });
    return checked;
  }
}
