import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { forbidden, invalidField, notFound } from "../domain/errors.ts";
import { futureTime } from "../domain/future_time.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import {
  type ChangePorts,
  checkUsers,
  commitChange,
  expectRole,
  requireGroup,
  requirePermission,
} from "./_conversation_changes.ts";
import type { AuditLog } from "./audit.ts";
import type { ConversationViews, MemberView } from "./conversation_views.ts";
import type { ConversationsService } from "./conversations.ts";
import { banAad, checkReason, MODERATION_KEY_OWNER } from "./moderation_keys.ts";

/** A ban as moderators see it. */
export interface BanView {
  userId: string;
  bannedBy: string;
  until: string | null;
  createdAt: string;
  reason?: string;
}

/**
 * Moderation inside a group: bans (a banned user is removed and every way back in refuses them; the
 * joins check it, see `ConversationMembers`) and timed mutes (their sends get 403 `muted`). Moderators
 * and up, only on users ranked below them; bans are audited.
 */
export class GroupModeration {
  constructor(
    private readonly deps: ChangePorts & {
      conversations: ConversationsService;
      views: ConversationViews;
      store: Pick<Store, "accounts" | "conversations" | "moderation">;
      dataKeys: DataKeys;
      audit: AuditLog;
    },
  ) {}

  /**
   * Bans a user from a group (moderator and up, only users ranked below; anyone not a member may be
   * banned ahead): they are removed (`member.removed` with reason `banned`) and no add, invite link,
   * invitation or public join lets them back in until `until` or until the ban is lifted.
   */
  async ban(
    actor: Actor,
    id: string,
    userId: string,
    input: { reason?: string; until?: string | null },
  ): Promise<BanView> {
    const { conversation, member } = await this.#group(actor, id);
    if (userId === actor.userId) throw invalidField("userId", "you cannot ban yourself");
    const target = await this.deps.store.conversations.getMember(id, userId);
    requirePermission(member.role, "ban", target?.role ?? null, conversation.settings);
    if (!target) await checkUsers(this.deps.store.accounts, [userId], { field: "userId" });
    const until = input.until ? futureTime(input.until, "until") : null;
    const at = nowIso();
    const reason = input.reason === undefined ? null : checkReason(input.reason);
    await this.deps.store.moderation.putBan({
      conversationId: id,
      userId,
      bannedBy: actor.userId,
      reason: reason === null
        ? null
        : await this.deps.dataKeys.sealText(MODERATION_KEY_OWNER, reason, banAad(id, userId)),
      until,
      createdAt: at,
    });
    if (target) {
      await commitChange(this.deps, {
        conversationId: id,
        actorId: actor.userId,
        event: "member.removed",
        mutations: [{ op: "removeMember", userId }],
        data: { actorId: actor.userId, userId, reason: "banned" },
        system: { action: "member.banned", actorId: actor.userId, userIds: [userId] },
        expect: [expectRole(actor.userId, member.role), expectRole(userId, target.role)],
      });
    }
    await this.deps.audit.record({
      action: "conversation.member_banned",
      actorId: actor.userId,
      targetId: userId,
      details: { conversationId: id, until },
    });
    return { userId, bannedBy: actor.userId, until, createdAt: at, reason: reason ?? undefined };
  }

  /** Lifts a ban (moderator and up); idempotent. */
  async unban(actor: Actor, id: string, userId: string): Promise<void> {
    const { conversation, member } = await this.#group(actor, id);
    requirePermission(member.role, "ban", null, conversation.settings);
    if (await this.deps.store.moderation.deleteBan(id, userId)) {
      await this.deps.audit.record({
        action: "conversation.member_unbanned",
        actorId: actor.userId,
        targetId: userId,
        details: { conversationId: id },
      });
    }
  }

  /** The group's bans still in force, newest first (moderator and up). */
  async listBans(actor: Actor, id: string): Promise<BanView[]> {
    const { conversation, member } = await this.#group(actor, id);
    requirePermission(member.role, "ban", null, conversation.settings);
    const now = nowIso();
    const bans = (await this.deps.store.moderation.listBans(id)).filter((b) =>
      !b.until || b.until > now
    );
    return await Promise.all(bans.map(async (b) => {
      const reason = b.reason
        ? await this.deps.dataKeys.openText(b.reason, banAad(id, b.userId))
        : null;
      return {
        userId: b.userId,
        bannedBy: b.bannedBy,
        until: b.until,
        createdAt: b.createdAt,
        ...(reason ? { reason } : {}),
      };
    }));
  }

  /**
   * Mutes a member until `until` (null lifts it): moderator and up, only members ranked below. A
   * durable `member.updated` with a system message; the member's sends get 403 `muted` meanwhile.
   */
  async setMute(
    actor: Actor,
    id: string,
    userId: string,
    until: string | null,
  ): Promise<MemberView> {
    const { conversation, member } = await this.#group(actor, id);
    const target = await this.deps.store.conversations.getMember(id, userId);
    if (!target) throw notFound("That user is not a member");
    if (userId === actor.userId) throw forbidden("You cannot mute yourself");
    requirePermission(member.role, "muteMember", target.role, conversation.settings);
    const value = until === null ? null : futureTime(until, "mutedUntil");
    await commitChange(this.deps, {
      conversationId: id,
      actorId: actor.userId,
      event: "member.updated",
      mutations: [{ op: "setSilenced", userId, until: value }],
      data: { actorId: actor.userId, members: [{ userId, role: target.role, mutedUntil: value }] },
      system: {
        action: value ? "member.muted" : "member.unmuted",
        actorId: actor.userId,
        userIds: [userId],
      },
      expect: [expectRole(actor.userId, member.role), expectRole(userId, target.role)],
    });
    return (await this.deps.views.members([{ ...target, silencedUntil: value }]))[0];
  }

  async #group(actor: Actor, id: string) {
    return requireGroup(await this.deps.conversations.membership(actor, id));
  }
}
