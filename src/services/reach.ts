import type { Actor } from "../domain/actor.ts";
import { blocked, forbidden, notFound } from "../domain/errors.ts";
import type { Conversation, ReachPrivacy, User } from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { InvitationRecord, Store } from "../store/store.ts";
import type { ConversationMembers } from "./conversation_members.ts";
import type { ConversationsService } from "./conversations.ts";
import type { ConversationView } from "./conversation_views.ts";
import type { Notices } from "./notices.ts";
import type { AvatarResolver, MediaRef } from "./users.ts";
import type { UserData } from "./user_data.ts";

/**
 * Who may reach whom: blocks (a user who blocks the caller refuses a direct conversation and group
 * adds with 403 `blocked`) and each user's `privacy.directMessages` / `privacy.groupAdds`
 * (`everyone`, `contacts`: people they already share a conversation with, or `nobody`).
 */
export class ReachPolicy {
  constructor(
    private readonly deps: { store: Pick<Store, "accounts" | "conversations" | "moderation"> },
  ) {}

  /** Throws unless `actorId` may open a direct conversation with `peer`. */
  async checkDirect(actorId: string, peer: User): Promise<void> {
    const { blockedBy } = await this.deps.store.moderation.blocksBetween(actorId, [peer.id]);
    if (blockedBy.size > 0) throw blocked();
    if (!await this.#admits(peer.privacy.directMessages, peer.id, actorId)) {
      throw forbidden("This user does not accept direct conversations from you");
    }
  }

  /**
   * Splits `targets` into those `actorId` may add to a group and those to invite instead; throws 403
   * `blocked` when any of them blocks the caller.
   */
  async splitAdds(
    actorId: string,
    targets: User[] | string[],
  ): Promise<{ add: string[]; invite: string[] }> {
    const ids = targets.map((t) => typeof t === "string" ? t : t.id);
    const { blockedBy } = await this.deps.store.moderation.blocksBetween(actorId, ids);
    if (blockedBy.size > 0) throw blocked();
    const users = targets.every((t) => typeof t !== "string")
      ? targets as User[]
      : await this.deps.store.accounts.getUsers(ids);
    const add: string[] = [];
    const invite: string[] = [];
    for (const u of users) {
      if (await this.#admits(u.privacy.groupAdds, u.id, actorId)) add.push(u.id);
      else invite.push(u.id);
    }
    return { add, invite };
  }

  async #admits(rule: ReachPrivacy, userId: string, actorId: string): Promise<boolean> {
    if (rule === "everyone") return true;
    if (rule === "nobody") return false;
    return await this.deps.store.conversations.sharesConversation(userId, actorId);
  }
}

/** An invitation as its invitee sees it. */
export interface InvitationView {
  id: string;
  conversation: { id: string; name: string | null; avatar: MediaRef | null; memberCount: number };
  inviterId: string;
  createdAt: string;
}

/**
 * Invitations to groups, made when the adder may not add someone directly: the invitee gets an
 * `invitation.created` user event, lists them, and accepts (joining the group, unless banned) or
 * declines.
 */
export class InvitationsService implements UserData {
  readonly exportPath = "invitations.jsonl";
  readonly exportDescription = "group invitations you have not answered yet";
  /** Set by the wiring: the conversation services and this one need each other. */
  members!: ConversationMembers;
  conversations!: ConversationsService;

  constructor(
    private readonly deps: {
      store: Pick<Store, "conversations" | "moderation">;
      notices: Notices;
      avatars: AvatarResolver;
    },
  ) {}

  /** Invites `inviteeIds` to `conversation` on `inviterId`'s behalf; returns who was invited. */
  async invite(
    conversation: Conversation,
    inviterId: string,
    inviteeIds: string[],
  ): Promise<string[]> {
    for (const inviteeId of inviteeIds) {
      const invitation = await this.deps.store.moderation.createInvitation({
        id: newId(),
        conversationId: conversation.id,
        inviterId,
        inviteeId,
        status: "pending",
        createdAt: nowIso(),
        answeredAt: null,
      });
      await this.deps.notices.notifyUser(inviteeId, {
        event: "invitation.created",
        data: await this.#view(invitation, conversation),
      });
    }
    return inviteeIds;
  }

  /** The caller's pending invitations, newest first (ones to deleted groups left out). */
  async list(actor: Actor): Promise<InvitationView[]> {
    const pending = await this.deps.store.moderation.listInvitations(actor.userId);
    const views = await Promise.all(pending.map(async (i) => {
      const c = await this.deps.store.conversations.getConversation(i.conversationId);
      return c && !c.deletedAt ? await this.#view(i, c) : null;
    }));
    return views.filter((v): v is InvitationView => v !== null);
  }

  /** Accepts an invitation: the caller joins the group (403 `banned` when banned meanwhile). */
  async accept(actor: Actor, id: string): Promise<ConversationView> {
    const { invitation, conversation } = await this.#pending(actor, id);
    await this.members.join(actor.userId, conversation, {
      kind: "invitation",
      inviterId: invitation.inviterId,
    });
    await this.deps.store.moderation.answerInvitation(id, "accepted", nowIso());
    return await this.conversations.get(actor, conversation.id);
  }

  /** Declines an invitation. */
  async decline(actor: Actor, id: string): Promise<void> {
    await this.#pending(actor, id);
    await this.deps.store.moderation.answerInvitation(id, "declined", nowIso());
  }

  async exportUser(userId: string): Promise<unknown[]> {
    return (await this.deps.store.moderation.listInvitations(userId)).map((i) => ({
      id: i.id,
      conversationId: i.conversationId,
      inviterId: i.inviterId,
      createdAt: i.createdAt,
    }));
  }

  /** Invitations go with the user's other moderation state (see `BlocksService.eraseUser`). */
  eraseUser(): Promise<number> {
    return Promise.resolve(0);
  }

  async #pending(
    actor: Actor,
    id: string,
  ): Promise<{ invitation: InvitationRecord; conversation: Conversation }> {
    const invitation = await this.deps.store.moderation.getInvitation(id);
    if (!invitation || invitation.inviteeId !== actor.userId || invitation.status !== "pending") {
      throw notFound("Invitation not found");
    }
    const conversation = await this.deps.store.conversations.getConversation(
      invitation.conversationId,
    );
    if (!conversation || conversation.deletedAt) throw notFound("Invitation not found");
    return { invitation, conversation };
  }

  async #view(i: InvitationRecord, c: Conversation): Promise<InvitationView> {
    return {
      id: i.id,
      conversation: {
        id: c.id,
        name: c.name,
        avatar: c.avatarMediaId ? await this.deps.avatars.links(c.avatarMediaId) : null,
        memberCount: c.memberCount,
      },
      inviterId: i.inviterId,
      createdAt: i.createdAt,
    };
  }
}
