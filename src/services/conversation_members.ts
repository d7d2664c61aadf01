import type { Config } from "../config.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import {
  type AppError,
  banned,
  conflict,
  forbidden,
  invalidField,
  notFound,
} from "../domain/errors.ts";
import type { Expectation } from "../store/store.ts";
import type { InvitationsService, ReachPolicy } from "./reach.ts";
import { type GroupAction, roleChangeAction } from "../domain/permissions.ts";
import { type Conversation, type Member, type MemberRole, ROLE_RANK } from "../domain/types.ts";
import { nowIso } from "../ids.ts";
import type { MemberCursor } from "../store/store.ts";
import {
  type ChangePorts,
  checkUsers,
  commitChange,
  deleteAsOwner,
  expectRole,
  newMember,
  requireGroup,
  requirePermission,
} from "./_conversation_changes.ts";
import type { Actor } from "../domain/actor.ts";
import type { ConversationView, ConversationViews, MemberView } from "./conversation_views.ts";
import type { ConversationsService } from "./conversations.ts";
import type { Store } from "../store/store.ts";

/**
 * Group membership and roles: the member list, adding and removing members, leaving (with ownership
 * passed on), role changes and ownership transfer. Authorization comes from `domain/permissions.ts`;
 * each change commits atomically with its event (checked against the roles it was decided on) and
 * then is published. Non-members get 404 for everything.
 */
export class ConversationMembers {
  constructor(
    private readonly deps: ChangePorts & {
      config: Config;
      /** Checks membership first; shows the conversation after an ownership transfer. */
      conversations: ConversationsService;
      views: ConversationViews;
      store: Pick<Store, "accounts" | "conversations" | "moderation">;
      reach: ReachPolicy;
      invitations: InvitationsService;
    },
  ) {}

  /** Members in join order, cursor-paginated. */
  async list(
    actor: Actor,
    id: string,
    options: { limit: number; cursor?: string },
  ): Promise<{ members: MemberView[]; nextCursor?: string }> {
    await this.deps.conversations.membership(actor, id);
    const after = options.cursor ? decodeCursor(options.cursor, isMemberCursor) : undefined;
    const rows = await this.deps.store.conversations.listMembers(id, {
      limit: options.limit + 1,
      after,
    });
    const page = rows.slice(0, options.limit);
    const members = await this.deps.views.members(page);
    if (rows.length <= options.limit) return { members };
    const last = page.at(-1)!;
    return { members, nextCursor: encodeCursor({ joinedAt: last.joinedAt, userId: last.userId }) };
  }

  /**
   * Adds members (moderator and up, or anyone when `membersCanAddMembers`). A user who blocks the
   * caller cannot be added (403 `blocked`), nor a banned one (403 `banned`); one whose
   * `privacy.groupAdds` does not admit the caller is invited instead (listed in `invited`).
   */
  async addMembers(
    actor: Actor,
    id: string,
    userIds: string[],
  ): Promise<{ members: MemberView[]; added: string[]; invited: string[] }> {
    const { conversation, member } = await this.#group(actor, id);
    requirePermission(member.role, "addMembers", null, conversation.settings);
    const wanted = [...new Set(userIds)];
    if (wanted.length === 0) throw invalidField("userIds", "must name at least one user");
    await checkUsers(this.deps.store.accounts, wanted, { field: "userIds" });
    const present = new Set(
      (await this.deps.store.conversations.getMembers(id, wanted)).map((m) => m.userId),
    );
    const candidates = wanted.filter((u) => !present.has(u));
    if (candidates.length === 0) return { members: [], added: [], invited: [] };
    await this.#refuseBanned(id, candidates);
    const { add: fresh, invite } = await this.deps.reach.splitAdds(actor.userId, candidates);
    const invited = invite.length
      ? await this.deps.invitations.invite(conversation, actor.userId, invite)
      : [];
    if (fresh.length === 0) return { members: [], added: [], invited };
    const limit = this.deps.config.limits.groupMemberLimit;
    if (conversation.memberCount + fresh.length > limit) {
      throw conflict(`A group has at most ${limit} members`);
    }

    const at = nowIso();
    const members = fresh.map((u) => newMember(id, { userId: u, role: "member", joinedAt: at }));
    await commitChange(this.deps, {
      conversationId: id,
      actorId: actor.userId,
      event: "member.added",
      mutations: [{ op: "addMembers", members }],
      data: {
        actorId: actor.userId,
        members: members.map(({ userId, role, joinedAt }) => ({ userId, role, joinedAt })),
      },
      system: { action: "member.added", actorId: actor.userId, userIds: fresh },
      expect: [
        expectRole(actor.userId, member.role),
        ...fresh.map((userId) => notBanned(userId)),
        // Re-checked inside the commit, so concurrent adds (on any instance) never overshoot.
        {
          kind: "memberLimit",
          max: limit,
          error: conflict(`A group has at most ${limit} members`),
        },
      ],
    });
    return { members: await this.deps.views.members(members), added: fresh, invited };
  }

  /**
   * `userId` joins a group by themselves: through an invitation they accept, an invite link
   * (`code`, whose use is counted in the same commit, `gone` thrown when none is left) or because
   * it is public. Refused when banned (403 `banned`); nothing happens when they are a member
   * already.
   */
  async join(
    userId: string,
    conversation: Conversation,
    via:
      | { kind: "invitation"; inviterId: string }
      | { kind: "link"; code: string; gone: AppError }
      | { kind: "public" },
  ): Promise<void> {
    const id = conversation.id;
    if (await this.deps.store.conversations.getMember(id, userId)) return;
    await this.#refuseBanned(id, [userId]);
    const limit = this.deps.config.limits.groupMemberLimit;
    if (conversation.memberCount + 1 > limit) {
      throw conflict(`A group has at most ${limit} members`);
    }
    const at = nowIso();
    const joining = newMember(id, { userId, role: "member", joinedAt: at });
    await commitChange(this.deps, {
      conversationId: id,
      actorId: userId,
      event: "member.added",
      mutations: [{ op: "addMembers", members: [joining] }],
      data: {
        actorId: userId,
        via: via.kind,
        ...(via.kind === "invitation" ? { invitedBy: via.inviterId } : {}),
        members: [{ userId, role: joining.role, joinedAt: at }],
      },
      system: {
        action: "member.joined",
        actorId: userId,
        ...(via.kind === "invitation" ? { userIds: [via.inviterId] } : {}),
      },
      expect: [
        notBanned(userId),
        {
          kind: "memberLimit",
          max: limit,
          error: conflict(`A group has at most ${limit} members`),
        },
        ...(via.kind === "link"
          ? [{ kind: "inviteUse" as const, code: via.code, at, error: via.gone }]
          : []),
      ],
    });
  }

  /** Throws 403 `banned` when any of `userIds` is banned from the group now. */
  async #refuseBanned(id: string, userIds: string[]): Promise<void> {
    const now = nowIso();
    for (const userId of userIds) {
      const ban = await this.deps.store.moderation.getBan(id, userId);
      if (ban && (!ban.until || ban.until > now)) {
        throw banned(userIds.length > 1 ? `User ${userId} is banned from this group` : undefined);
      }
    }
  }

  /**
   * Removes a member (moderator and up, only members ranked below), or leaves when the target is the
   * caller. An owner who leaves hands the group to the longest-serving admin, then moderator, then
   * member; the last one out deletes it.
   */
  async removeMember(actor: Actor, id: string, userId: string): Promise<void> {
    const { conversation, member } = await this.#group(actor, id);
    if (userId === actor.userId) return await this.#leave(actor, conversation, member);
    const target = await this.deps.store.conversations.getMember(id, userId);
    if (!target) throw notFound("That user is not a member");
    requirePermission(member.role, "removeMember", target.role, conversation.settings);
    await commitChange(this.deps, {
      conversationId: id,
      actorId: actor.userId,
      event: "member.removed",
      mutations: [{ op: "removeMember", userId }],
      data: { actorId: actor.userId, userId, reason: "removed" },
      system: { action: "member.removed", actorId: actor.userId, userIds: [userId] },
      expect: [expectRole(actor.userId, member.role), expectRole(userId, target.role)],
    });
  }

  /**
   * Takes an erased account out of a conversation with the usual durable events (`member.removed`,
   * reason `account_deleted`, and a `member.left` system message): in a group, ownership passes on as
   * when an owner leaves, and a group whose last member this was is deleted; in a direct conversation
   * the other member stays. Does nothing when they are no longer a member.
   */
  async departErased(userId: string, conversationId: string): Promise<void> {
    const [conversation, member] = await Promise.all([
      this.deps.store.conversations.getConversation(conversationId),
      this.deps.store.conversations.getMember(conversationId, userId),
    ]);
    if (!conversation || conversation.deletedAt || !member) return;
    const actor: Actor = { userId, sessionId: "", role: "user" };
    if (conversation.type === "group") {
      return await this.#leave(actor, conversation, member, "account_deleted");
    }
    await commitChange(this.deps, {
      conversationId,
      actorId: userId,
      event: "member.removed",
      mutations: [{ op: "removeMember", userId }],
      data: { actorId: userId, userId, reason: "account_deleted" },
      system: { action: "member.left", actorId: userId },
      expect: [expectRole(userId, member.role)],
    });
  }

  async #leave(
    actor: Actor,
    conversation: Conversation,
    member: Member,
    reason = "left",
  ): Promise<void> {
    const id = conversation.id;
    if (member.role === "owner") {
      const successor = await this.#successor(id, actor.userId);
      if (!successor) {
        await deleteAsOwner(this.deps, {
          conversationId: id,
          actorId: actor.userId,
          reason: reason === "left" ? "last member left" : reason,
        });
        return;
      }
      await commitChange(this.deps, {
        conversationId: id,
        actorId: actor.userId,
        event: "member.removed",
        mutations: [
          { op: "setRole", userId: successor.userId, role: "owner" },
          { op: "removeMember", userId: actor.userId },
        ],
        data: {
          actorId: actor.userId,
          userId: actor.userId,
          reason,
          members: [{ userId: successor.userId, role: "owner" }],
        },
        system: {
          action: "member.left",
          actorId: actor.userId,
          userIds: [successor.userId],
          role: "owner",
        },
        expect: [expectRole(actor.userId, "owner"), expectRole(successor.userId, successor.role)],
      });
      return;
    }
    requirePermission(member.role, "leave", null, conversation.settings);
    await commitChange(this.deps, {
      conversationId: id,
      actorId: actor.userId,
      event: "member.removed",
      mutations: [{ op: "removeMember", userId: actor.userId }],
      data: { actorId: actor.userId, userId: actor.userId, reason },
      system: { action: "member.left", actorId: actor.userId },
      expect: [expectRole(actor.userId, member.role)],
    });
  }

  /** The longest-serving admin, then moderator, then member (excluding `leaving`). */
  async #successor(id: string, leaving: string): Promise<Member | null> {
    let best: Member | null = null;
    let after: MemberCursor | undefined;
    for (;;) {
      const page = await this.deps.store.conversations.listMembers(id, { limit: 500, after });
      for (const m of page) {
        if (m.userId === leaving) continue;
        if (!best || ROLE_RANK[m.role] > ROLE_RANK[best.role]) best = m;
      }
      if (page.length < 500) return best;
      after = { joinedAt: page.at(-1)!.joinedAt, userId: page.at(-1)!.userId };
    }
  }

  /** Changes a member's role: up to moderator by admins, admin by the owner. */
  async setRole(actor: Actor, id: string, userId: string, role: MemberRole): Promise<MemberView> {
    if (role === "owner") {
      throw invalidField("role", "use POST /v1/conversations/{id}/owner to transfer ownership");
    }
    const { conversation, member } = await this.#group(actor, id);
    const target = await this.deps.store.conversations.getMember(id, userId);
    if (!target) throw notFound("That user is not a member");
    if (userId === actor.userId) throw forbidden("You cannot change your own role");
    const action: GroupAction = target.role === "admin" ? "setRoleAdmin" : roleChangeAction(role);
    requirePermission(member.role, action, target.role, conversation.settings);
    if (target.role !== role) {
      await commitChange(this.deps, {
        conversationId: id,
        actorId: actor.userId,
        event: "member.updated",
        mutations: [{ op: "setRole", userId, role }],
        data: { actorId: actor.userId, members: [{ userId, role }] },
        system: { action: "member.role_changed", actorId: actor.userId, userIds: [userId], role },
        expect: [expectRole(actor.userId, member.role), expectRole(userId, target.role)],
      });
    }
    return (await this.deps.views.members([{ ...target, role }]))[0];
  }

  /** Hands ownership to another member (owner only); the old owner becomes an admin. */
  async transferOwnership(actor: Actor, id: string, userId: string): Promise<ConversationView> {
    const { conversation, member } = await this.#group(actor, id);
    requirePermission(member.role, "transferOwnership", null, conversation.settings);
    if (userId === actor.userId) throw invalidField("userId", "you already own this group");
    const target = await this.deps.store.conversations.getMember(id, userId);
    if (!target) throw invalidField("userId", "is not a member of this group");
    const members = [{ userId, role: "owner" as const }, {
      userId: actor.userId,
      role: "admin" as const,
    }];
    await commitChange(this.deps, {
      conversationId: id,
      actorId: actor.userId,
      event: "member.updated",
      mutations: [
        { op: "setRole", userId, role: "owner" },
        { op: "setRole", userId: actor.userId, role: "admin" },
      ],
      data: { actorId: actor.userId, members },
      system: { action: "ownership.transferred", actorId: actor.userId, userIds: [userId] },
      expect: [expectRole(actor.userId, "owner"), expectRole(userId, target.role)],
    });
    return await this.deps.conversations.get(actor, id);
  }

  async #group(actor: Actor, id: string) {
    return requireGroup(await this.deps.conversations.membership(actor, id));
  }
}

/** The commit's check that `userId` is not banned (a ban may land while a join is decided). */
function notBanned(userId: string): Expectation {
  return { kind: "notBanned", userId, at: nowIso(), error: banned() };
}

function isMemberCursor(v: unknown): v is MemberCursor {
  const c = v as MemberCursor;
  return typeof c?.joinedAt === "string" && typeof c?.userId === "string";
}
