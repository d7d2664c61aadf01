import type { Config } from "../config.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { forbidden, invalidField, notFound, validationFailed } from "../domain/errors.ts";
import { checkText } from "../domain/text.ts";
import { checkBlockedWords } from "../domain/words.ts";
import {
  type Conversation,
  DEFAULT_SETTINGS,
  type GroupSettings,
  type Member,
  type SystemInfo,
} from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { ConversationPatch, NotifyLevel, Store } from "../store/store.ts";
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
import type { ConversationView, ConversationViews } from "./conversation_views.ts";
import type { HotReads } from "./hot_reads.ts";
import type { AvatarResolver } from "./users.ts";
import type { InvitationsService, ReachPolicy } from "./reach.ts";

/**
 * Direct conversations and groups: creation, listing, info and settings, deletion and the caller's
 * own state, and the membership check the other services rely on (members and roles are
 * `ConversationMembers`). Authorization comes from `domain/permissions.ts`; each change commits
 * atomically with its event (checked against the roles it was decided on) and then is published.
 * Non-members get 404 for everything.
 */
export class ConversationsService {
  constructor(
    private readonly deps: ChangePorts & {
      store: Pick<Store, "accounts" | "conversations" | "push">;
      config: Config;
      avatars: AvatarResolver;
      views: ConversationViews;
      /** The read cache for the first list page; absent when caching is off. */
      hot?: HotReads;
      reach: ReachPolicy;
      invitations: Pick<InvitationsService, "invite">;
    },
  ) {}

  /** The one direct conversation between the caller and `userId` (created the first time). */
  async openDirect(
    actor: Actor,
    userId: string,
  ): Promise<{ view: ConversationView; created: boolean }> {
    if (userId === actor.userId) {
      throw invalidField("userId", "cannot start a conversation with yourself");
    }
    const peer = await this.deps.store.accounts.getUser(userId);
    if (!peer || peer.deletedAt) throw invalidField("userId", "no such user");
    await this.deps.reach.checkDirect(actor.userId, peer);
    const at = nowIso();
    const id = newId();
    const members = [actor.userId, userId].map((u) =>
      newMember(id, { userId: u, role: "member", joinedAt: at })
    );
    const { conversation, created } = await this.deps.events.createConversation({
      conversation: this.#conversation(id, "direct", actor.userId, at, { name: null }),
      members,
      directKey: [actor.userId, userId].sort().join(":"),
      event: {
        event: "conversation.created",
        actorId: actor.userId,
        data: { type: "direct", members: members.map(({ userId, role }) => ({ userId, role })) },
      },
      systemMessageId: newId(),
      system: conversationCreated(actor.userId, members),
    });
    return { view: await this.get(actor, conversation.id), created };
  }

  /** Creates a group with the caller as owner. */
  async createGroup(
    actor: Actor,
    input: {
      name: string;
      description?: string | null;
      avatarMediaId?: string | null;
      memberIds: string[];
    },
  ): Promise<ConversationView> {
    const name = this.#name(input.name);
    const description = this.#description(input.description ?? null);
    const others = [...new Set(input.memberIds)].filter((u) => u !== actor.userId);
    if (others.length + 1 > this.deps.config.limits.groupMemberLimit) {
      throw invalidField(
        "memberIds",
        `a group has at most ${this.deps.config.limits.groupMemberLimit} members`,
      );
    }
    await checkUsers(this.deps.store.accounts, others, { field: "memberIds" });
    // Who blocks the creator refuses (403 `blocked`); whose privacy does not admit them is invited.
    const { add, invite } = await this.deps.reach.splitAdds(actor.userId, others);
    if (input.avatarMediaId) {
      await this.deps.avatars.checkUsable(actor.userId, input.avatarMediaId, "avatarMediaId");
    }
    const at = nowIso();
    const id = newId();
    const members = [
      newMember(id, { userId: actor.userId, role: "owner", joinedAt: at }),
      ...add.map((u) => newMember(id, { userId: u, role: "member", joinedAt: at })),
    ];
    await this.deps.events.createConversation({
      conversation: this.#conversation(id, "group", actor.userId, at, {
        name,
        description,
        avatarMediaId: input.avatarMediaId ?? null,
      }),
      members,
      event: {
        event: "conversation.created",
        actorId: actor.userId,
        data: {
          type: "group",
          name,
          members: members.map(({ userId, role }) => ({ userId, role })),
        },
      },
      systemMessageId: newId(),
      system: conversationCreated(actor.userId, members),
    });
    const view = await this.get(actor, id);
    if (invite.length === 0) return view;
    const created = await this.deps.store.conversations.getConversation(id);
    return { ...view, invited: await this.deps.invitations.invite(created!, actor.userId, invite) };
  }

  /** The caller's conversations, latest activity first, cursor-paginated. */
  async list(
    actor: Actor,
    options: { archived: boolean; limit: number; cursor?: string },
  ): Promise<{ conversations: ConversationView[]; nextCursor?: string }> {
    const cursor = options.cursor
      ? decodeCursor(
        options.cursor,
        (v): v is { updatedAt: string; id: string } =>
          typeof (v as { updatedAt?: unknown })?.updatedAt === "string" &&
          typeof (v as { id?: unknown })?.id === "string",
      )
      : undefined;
    const { hot } = this.deps;
    const { items, reactions } = hot && !cursor
      ? await hot.firstListPage(actor.userId, options.archived, options.limit + 1)
      : {
        items: await this.deps.store.conversations.listConversations(actor.userId, {
          archived: options.archived,
          limit: options.limit + 1,
          cursor,
        }),
        reactions: undefined,
      };
    const page = items.slice(0, options.limit);
    const conversations = await this.deps.views.conversations(actor.userId, page, { reactions });
    if (items.length <= options.limit) return { conversations };
    const last = page.at(-1)!.conversation;
    return { conversations, nextCursor: encodeCursor({ updatedAt: last.updatedAt, id: last.id }) };
  }

  /** One conversation as the caller sees it; 404 unless they are a member. */
  async get(actor: Actor, id: string): Promise<ConversationView> {
    const item = await this.deps.store.conversations.conversationItem(actor.userId, id);
    if (!item) throw notFound("Conversation not found");
    return (await this.deps.views.conversations(actor.userId, [item]))[0];
  }

  /** The caller's membership, or 404 (the conversation's existence is not revealed). */
  async membership(
    actor: Actor,
    id: string,
  ): Promise<{ conversation: Conversation; member: Member }> {
    const [conversation, member] = await Promise.all([
      this.deps.store.conversations.getConversation(id),
      this.deps.store.conversations.getMember(id, actor.userId),
    ]);
    if (!conversation || conversation.deletedAt || !member) {
      throw notFound("Conversation not found");
    }
    return { conversation, member };
  }

  /** Changes name, description, avatar or settings (admin and up); one event for the lot. */
  async update(
    actor: Actor,
    id: string,
    input: {
      name?: string;
      description?: string | null;
      avatarMediaId?: string | null;
      settings?: Partial<GroupSettings>;
      retentionDays?: number | null;
    },
  ): Promise<ConversationView> {
    const { conversation, member } = await this.membership(actor, id);
    const patch: ConversationPatch = {};
    const changes: string[] = [];
    // The disappearing-message timer is the one setting a direct conversation has: either member
    // sets it there; in a group it is an admin's, like the other settings.
    const { messageTtlSeconds, ...groupSettings } = input.settings ?? {};
    const groupInfo = input.name !== undefined || input.description !== undefined ||
      input.avatarMediaId !== undefined || Object.keys(groupSettings).length > 0;
    if (groupInfo && conversation.type === "direct") {
      throw forbidden("A direct conversation has no name, avatar or group settings");
    }
    if (groupInfo || (messageTtlSeconds !== undefined && conversation.type === "group")) {
      requirePermission(member.role, "editInfo", null, conversation.settings);
    }
    if (input.retentionDays !== undefined && conversation.type === "group") {
      requirePermission(member.role, "editInfo", null, conversation.settings);
    }
    if (input.name !== undefined && input.name !== conversation.name) {
      patch.name = this.#name(input.name);
      changes.push("name");
    }
    if (
      input.description !== undefined && (input.description ?? null) !== conversation.description
    ) {
      patch.description = this.#description(input.description);
      changes.push("description");
    }
    if (input.avatarMediaId !== undefined && input.avatarMediaId !== conversation.avatarMediaId) {
      if (input.avatarMediaId) {
        await this.deps.avatars.checkUsable(actor.userId, input.avatarMediaId, "avatarMediaId");
      }
      patch.avatarMediaId = input.avatarMediaId;
      changes.push("avatar");
    }
    if (input.settings) {
      if (input.settings.blockedWords) {
        input.settings.blockedWords = checkBlockedWords(
          input.settings.blockedWords,
          "settings.blockedWords",
        );
      }
      const next = { ...conversation.settings, ...input.settings };
      if (JSON.stringify(next) !== JSON.stringify(conversation.settings)) {
        patch.settings = next;
        const timer = next.messageTtlSeconds !== conversation.settings.messageTtlSeconds;
        if (timer) changes.push("messageTtlSeconds");
        if (!timer || Object.keys(groupSettings).length > 0) changes.push("settings");
      }
    }
    if (input.retentionDays !== undefined && input.retentionDays !== conversation.retentionDays) {
      patch.retentionDays = input.retentionDays;
      changes.push("retention");
    }
    if (changes.length > 0) {
      const data: Record<string, unknown> = { actorId: actor.userId, changes: { ...patch } };
      await commitChange(this.deps, {
        conversationId: id,
        actorId: actor.userId,
        event: "conversation.updated",
        mutations: [{ op: "updateConversation", patch }],
        data,
        system: { action: "conversation.updated", actorId: actor.userId, changes },
        expect: [expectRole(actor.userId, member.role)],
      });
    }
    return await this.get(actor, id);
  }

  /** Deletes a group for everyone (owner only). */
  async deleteGroup(actor: Actor, id: string): Promise<void> {
    const { conversation, member } = requireGroup(await this.membership(actor, id));
    requirePermission(member.role, "deleteGroup", null, conversation.settings);
    await deleteAsOwner(this.deps, { conversationId: id, actorId: actor.userId });
  }

  /** The caller's own state in a conversation: muted (optionally until), archived, push level. */
  async setMyState(
    actor: Actor,
    id: string,
    input: {
      muted?: boolean;
      mutedUntil?: string | null;
      archived?: boolean;
      notify?: NotifyLevel;
    },
  ): Promise<ConversationView> {
    await this.membership(actor, id);
    if (input.notify !== undefined) {
      await this.deps.store.push.putConversationNotify({
        userId: actor.userId,
        conversationId: id,
        notify: input.notify,
        mutedUntil: null,
        updatedAt: nowIso(),
      });
    }
    const patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean } = {};
    if (input.mutedUntil !== undefined) {
      if (input.mutedUntil !== null && Number.isNaN(Date.parse(input.mutedUntil))) {
        throw invalidField("mutedUntil", "must be an ISO-8601 time");
      }
      patch.mutedUntil = input.mutedUntil === null
        ? null
        : new Date(input.mutedUntil).toISOString();
      if (input.mutedUntil !== null) patch.muted = true;
    }
    if (input.muted !== undefined) {
      patch.muted = input.muted;
      if (!input.muted) patch.mutedUntil = null;
    }
    if (input.archived !== undefined) patch.archived = input.archived;
    await this.deps.store.conversations.setMemberState(id, actor.userId, patch);
    return await this.get(actor, id);
  }

  #name(raw: string): string {
    const r = checkText(raw.trim(), { field: "name", minGraphemes: 1, maxGraphemes: 64 });
    if (!r.ok) throw validationFailed(r.problems);
    return r.text;
  }

  #description(raw: string | null): string | null {
    if (raw === null || raw.trim() === "") return null;
    const r = checkText(raw.trim(), {
      field: "description",
      minGraphemes: 1,
      maxGraphemes: 512,
      multiline: true,
    });
    if (!r.ok) throw validationFailed(r.problems);
    return r.text;
  }

  #conversation(
    id: string,
    type: "direct" | "group",
    createdBy: string,
    at: string,
    info: { name: string | null; description?: string | null; avatarMediaId?: string | null },
  ): Conversation {
    return {
      id,
      type,
      name: info.name,
      description: info.description ?? null,
      avatarMediaId: info.avatarMediaId ?? null,
      settings: DEFAULT_SETTINGS,
      createdBy,
      createdAt: at,
      updatedAt: at,
      lastSeq: 1,
      memberCount: 0,
      retentionDays: null,
      deletedAt: null,
    };
  }
}

/** The system message of a new conversation: who created it, with whom. */
function conversationCreated(actorId: string, members: Member[]): SystemInfo {
  return { action: "conversation.created", actorId, userIds: members.map((m) => m.userId) };
}
