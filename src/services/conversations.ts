import type { Config } from "../config.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { conflict, forbidden, invalidField, notFound, validationFailed } from "../domain/errors.ts";
import { can, type GroupAction, roleChangeAction } from "../domain/permissions.ts";
import { checkText } from "../domain/text.ts";
import {
  type Conversation,
  DEFAULT_SETTINGS,
  type GroupSettings,
  type Member,
  type MemberRole,
  type ReactionSummary,
  ROLE_RANK,
  type SystemInfo,
} from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type {
  Change,
  ConversationListItem,
  ConversationPatch,
  Expectation,
  MemberCursor,
  Mutation,
  Store,
} from "../store/store.ts";
import type { Actor } from "./auth.ts";
import type { EventLog } from "./events.ts";
import type { HotReads } from "./hot_reads.ts";
import { messageFor, type MessageRenderer, type PublicMessage } from "./render.ts";
import { type AvatarResolver, type MediaRef, omitNullish } from "./users.ts";

/** A conversation as one member sees it. */
export interface ConversationView {
  id: string;
  type: "direct" | "group";
  name: string | null;
  description: string | null;
  avatar: MediaRef | null;
  memberCount: number;
  myRole: MemberRole;
  lastMessage?: PublicMessage;
  lastSeq: number;
  unreadCount: number;
  muted: boolean;
  mutedUntil?: string;
  archived: boolean;
  settings: GroupSettings;
  retentionDays?: number;
  peer?: { id: string; username: string; displayName: string; deleted?: true };
  createdAt: string;
  updatedAt: string;
}

/** A member in a member list. */
export interface MemberView {
  userId: string;
  role: MemberRole;
  joinedAt: string;
  user: { id: string; username: string; displayName: string; deleted?: true };
}

const STALE = () => conflict("The group changed while this was being decided; try again");

/**
 * Direct conversations and groups: creation, info and settings, membership and roles. Authorization
 * comes from `domain/permissions.ts`; each change commits atomically with its event (checked against
 * the roles it was decided on) and then is published. Non-members get 404 for everything.
 */
export class ConversationsService {
  constructor(
    private readonly deps: {
      config: Config;
      store: Store;
      events: EventLog;
      renderer: MessageRenderer;
      avatars: AvatarResolver;
      /** The read cache for the first list page; absent when caching is off. */
      hot?: HotReads;
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
    const peer = await this.deps.store.getUser(userId);
    if (!peer || peer.deletedAt) throw invalidField("userId", "no such user");
    const at = nowIso();
    const id = newId();
    const members = [actor.userId, userId].map((u) => this.#member(id, u, "member", at));
    const { conversation, created } = await this.deps.store.createConversation({
      conversation: this.#conversation(id, "direct", actor.userId, at, { name: null }),
      members,
      directKey: [actor.userId, userId].sort().join(":"),
      event: {
        event: "conversation.created",
        actorId: actor.userId,
        data: { type: "direct", members: members.map(({ userId, role }) => ({ userId, role })) },
      },
      systemMessageId: newId(),
    });
    if (created) await this.#publishHead(conversation.id);
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
    await this.#checkUsers(others, "memberIds");
    if (input.avatarMediaId) {
      await this.deps.avatars.checkUsable(actor.userId, input.avatarMediaId, "avatarMediaId");
    }
    const at = nowIso();
    const id = newId();
    const members = [
      this.#member(id, actor.userId, "owner", at),
      ...others.map((u) => this.#member(id, u, "member", at)),
    ];
    await this.deps.store.createConversation({
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
    });
    await this.#publishHead(id);
    return await this.get(actor, id);
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
        items: await this.deps.store.listConversations(actor.userId, {
          archived: options.archived,
          limit: options.limit + 1,
          cursor,
        }),
        reactions: undefined,
      };
    const page = items.slice(0, options.limit);
    const conversations = await this.#views(actor.userId, page, reactions);
    if (items.length <= options.limit) return { conversations };
    const last = page.at(-1)!.conversation;
    return { conversations, nextCursor: encodeCursor({ updatedAt: last.updatedAt, id: last.id }) };
  }

  /** One conversation as the caller sees it; 404 unless they are a member. */
  async get(actor: Actor, id: string): Promise<ConversationView> {
    const item = await this.deps.store.conversationItem(actor.userId, id);
    if (!item) throw notFound("Conversation not found");
    return (await this.#views(actor.userId, [item]))[0];
  }

  /** The caller's membership, or 404 (the conversation's existence is not revealed). */
  async membership(
    actor: Actor,
    id: string,
  ): Promise<{ conversation: Conversation; member: Member }> {
    const [conversation, member] = await Promise.all([
      this.deps.store.getConversation(id),
      this.deps.store.getMember(id, actor.userId),
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
    const groupInfo = input.name !== undefined || input.description !== undefined ||
      input.avatarMediaId !== undefined || input.settings !== undefined;
    if (groupInfo) {
      if (conversation.type === "direct") {
        throw forbidden("A direct conversation has no name, avatar or settings");
      }
      this.#require(member.role, "editInfo", null, conversation.settings);
    }
    if (input.retentionDays !== undefined && conversation.type === "group") {
      this.#require(member.role, "editInfo", null, conversation.settings);
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
      const next = { ...conversation.settings, ...input.settings };
      if (JSON.stringify(next) !== JSON.stringify(conversation.settings)) {
        patch.settings = next;
        changes.push("settings");
      }
    }
    if (input.retentionDays !== undefined && input.retentionDays !== conversation.retentionDays) {
      patch.retentionDays = input.retentionDays;
      changes.push("retention");
    }
    if (changes.length > 0) {
      const data: Record<string, unknown> = { actorId: actor.userId, changes: { ...patch } };
      await this.#commit(
        actor,
        id,
        "conversation.updated",
        [{ op: "updateConversation", patch }],
        data,
        {
          action: "conversation.updated",
          actorId: actor.userId,
          changes,
        },
        [this.#expectRole(actor.userId, member.role)],
      );
    }
    return await this.get(actor, id);
  }

  /** Hands ownership to another member (owner only); the old owner becomes an admin. */
  async transferOwnership(actor: Actor, id: string, userId: string): Promise<ConversationView> {
    const { conversation, member } = await this.#group(actor, id);
    this.#require(member.role, "transferOwnership", null, conversation.settings);
    if (userId === actor.userId) throw invalidField("userId", "you already own this group");
    const target = await this.deps.store.getMember(id, userId);
    if (!target) throw invalidField("userId", "is not a member of this group");
    const members = [{ userId, role: "owner" as const }, {
      userId: actor.userId,
      role: "admin" as const,
    }];
    await this.#commit(
      actor,
      id,
      "member.updated",
      [
        { op: "setRole", userId, role: "owner" },
        { op: "setRole", userId: actor.userId, role: "admin" },
      ],
      { actorId: actor.userId, members },
      {
        action: "ownership.transferred",
        actorId: actor.userId,
        userIds: [userId],
      },
      [this.#expectRole(actor.userId, "owner"), this.#expectRole(userId, target.role)],
    );
    return await this.get(actor, id);
  }

  /** Deletes a group for everyone (owner only). */
  async deleteGroup(actor: Actor, id: string): Promise<void> {
    const { conversation, member } = await this.#group(actor, id);
    this.#require(member.role, "deleteGroup", null, conversation.settings);
    await this.#deleteAsOwner(actor, id);
  }

  /** Deletes the group in one event: its owner deletes it, or leaves as its last member. */
  async #deleteAsOwner(actor: Actor, id: string, reason?: string): Promise<void> {
    await this.#commit(
      actor,
      id,
      "conversation.deleted",
      [{ op: "deleteConversation", at: nowIso() }],
      reason ? { actorId: actor.userId, reason } : { actorId: actor.userId },
      { action: "conversation.deleted", actorId: actor.userId },
      [this.#expectRole(actor.userId, "owner")],
    );
  }

  /** Members in join order, cursor-paginated. */
  async members(
    actor: Actor,
    id: string,
    options: { limit: number; cursor?: string },
  ): Promise<{ members: MemberView[]; nextCursor?: string }> {
    await this.membership(actor, id);
    const after = options.cursor ? decodeCursor(options.cursor, isMemberCursor) : undefined;
    const rows = await this.deps.store.listMembers(id, { limit: options.limit + 1, after });
    const page = rows.slice(0, options.limit);
    const members = await this.#memberViews(page);
    if (rows.length <= options.limit) return { members };
    const last = page.at(-1)!;
    return { members, nextCursor: encodeCursor({ joinedAt: last.joinedAt, userId: last.userId }) };
  }

  /** Adds members (moderator and up, or anyone when `membersCanAddMembers`). */
  async addMembers(
    actor: Actor,
    id: string,
    userIds: string[],
  ): Promise<{ members: MemberView[] }> {
    const { conversation, member } = await this.#group(actor, id);
    this.#require(member.role, "addMembers", null, conversation.settings);
    const wanted = [...new Set(userIds)];
    if (wanted.length === 0) throw invalidField("userIds", "must name at least one user");
    await this.#checkUsers(wanted, "userIds");
    const present = new Set(
      (await Promise.all(wanted.map((u) => this.deps.store.getMember(id, u)))).filter(Boolean).map((
        m,
      ) => m!.userId),
    );
    const fresh = wanted.filter((u) => !present.has(u));
    if (fresh.length === 0) return { members: [] };
    const limit = this.deps.config.limits.groupMemberLimit;
    if (conversation.memberCount + fresh.length > limit) {
      throw conflict(`A group has at most ${limit} members`);
    }

    const at = nowIso();
    const members = fresh.map((u) => this.#member(id, u, "member", at));
    await this.#commit(
      actor,
      id,
      "member.added",
      [{ op: "addMembers", members }],
      {
        actorId: actor.userId,
        members: members.map(({ userId, role, joinedAt }) => ({ userId, role, joinedAt })),
      },
      { action: "member.added", actorId: actor.userId, userIds: fresh },
      [
        this.#expectRole(actor.userId, member.role),
        // Re-checked inside the commit, so concurrent adds (on any instance) never overshoot.
        {
          kind: "memberLimit",
          max: limit,
          error: conflict(`A group has at most ${limit} members`),
        },
      ],
    );
    return { members: await this.#memberViews(members) };
  }

  /**
   * Removes a member (moderator and up, only members ranked below), or leaves when the target is the
   * caller. An owner who leaves hands the group to the longest-serving admin, then moderator, then
   * member; the last one out deletes it.
   */
  async removeMember(actor: Actor, id: string, userId: string): Promise<void> {
    const { conversation, member } = await this.#group(actor, id);
    if (userId === actor.userId) return await this.#leave(actor, conversation, member);
    const target = await this.deps.store.getMember(id, userId);
    if (!target) throw notFound("That user is not a member");
    this.#require(member.role, "removeMember", target.role, conversation.settings);
    await this.#commit(
      actor,
      id,
      "member.removed",
      [{ op: "removeMember", userId }],
      {
        actorId: actor.userId,
        userId,
        reason: "removed",
      },
      { action: "member.removed", actorId: actor.userId, userIds: [userId] },
      [
        this.#expectRole(actor.userId, member.role),
        this.#expectRole(userId, target.role),
      ],
    );
  }

  /**
   * Takes an erased account out of a conversation with the usual durable events (`member.removed`,
   * reason `account_deleted`, and a `member.left` system message): in a group, ownership passes on as
   * when an owner leaves, and a group whose last member this was is deleted; in a direct conversation
   * the other member stays. Does nothing when they are no longer a member.
   */
  async departErased(userId: string, conversationId: string): Promise<void> {
    const [conversation, member] = await Promise.all([
      this.deps.store.getConversation(conversationId),
      this.deps.store.getMember(conversationId, userId),
    ]);
    if (!conversation || conversation.deletedAt || !member) return;
    const actor: Actor = { userId, sessionId: "", role: "user" };
    if (conversation.type === "group") {
      return await this.#leave(actor, conversation, member, "account_deleted");
    }
    await this.#commit(
      actor,
      conversationId,
      "member.removed",
      [{ op: "removeMember", userId }],
      { actorId: userId, userId, reason: "account_deleted" },
      { action: "member.left", actorId: userId },
      [this.#expectRole(userId, member.role)],
    );
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
        await this.#deleteAsOwner(actor, id, reason === "left" ? "last member left" : reason);
        return;
      }
      await this.#commit(actor, id, "member.removed", [
        { op: "setRole", userId: successor.userId, role: "owner" },
        { op: "removeMember", userId: actor.userId },
      ], {
        actorId: actor.userId,
        userId: actor.userId,
        reason,
        members: [{ userId: successor.userId, role: "owner" }],
      }, {
        action: "member.left",
        actorId: actor.userId,
        userIds: [successor.userId],
        role: "owner",
      }, [
        this.#expectRole(actor.userId, "owner"),
        this.#expectRole(successor.userId, successor.role),
      ]);
      return;
    }
    this.#require(member.role, "leave", null, conversation.settings);
    await this.#commit(
      actor,
      id,
      "member.removed",
      [{ op: "removeMember", userId: actor.userId }],
      {
        actorId: actor.userId,
        userId: actor.userId,
        reason,
      },
      { action: "member.left", actorId: actor.userId },
      [this.#expectRole(actor.userId, member.role)],
    );
  }

  /** The longest-serving admin, then moderator, then member (excluding `leaving`). */
  async #successor(id: string, leaving: string): Promise<Member | null> {
    let best: Member | null = null;
    let after: MemberCursor | undefined;
    for (;;) {
      const page = await this.deps.store.listMembers(id, { limit: 500, after });
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
    const target = await this.deps.store.getMember(id, userId);
    if (!target) throw notFound("That user is not a member");
    if (userId === actor.userId) throw forbidden("You cannot change your own role");
    const action: GroupAction = target.role === "admin" ? "setRoleAdmin" : roleChangeAction(role);
    this.#require(member.role, action, target.role, conversation.settings);
    if (target.role !== role) {
      await this.#commit(
        actor,
        id,
        "member.updated",
        [{ op: "setRole", userId, role }],
        {
          actorId: actor.userId,
          members: [{ userId, role }],
        },
        { action: "member.role_changed", actorId: actor.userId, userIds: [userId], role },
        [
          this.#expectRole(actor.userId, member.role),
          this.#expectRole(userId, target.role),
        ],
      );
    }
    return (await this.#memberViews([{ ...target, role }]))[0];
  }

  /** The caller's own state in a conversation: muted (optionally until), archived. */
  async setMyState(
    actor: Actor,
    id: string,
    input: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ): Promise<ConversationView> {
    await this.membership(actor, id);
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
    await this.deps.store.setMemberState(id, actor.userId, patch);
    return await this.get(actor, id);
  }

  async #group(actor: Actor, id: string) {
    const m = await this.membership(actor, id);
    if (m.conversation.type !== "group") {
      throw forbidden("Direct conversations have no members to manage");
    }
    return m;
  }

  #require(
    role: MemberRole,
    action: GroupAction,
    target: MemberRole | null,
    settings: GroupSettings,
  ): void {
    if (!can(role, action, target, settings)) {
      throw forbidden(`Your role (${role}) may not do this`);
    }
  }

  #expectRole(userId: string, role: MemberRole): Expectation {
    return { kind: "member", userId, roles: [role], error: STALE() };
  }

  async #commit(
    actor: Actor,
    conversationId: string,
    event: Change["event"],
    mutations: Mutation[],
    data: Record<string, unknown>,
    system: SystemInfo,
    expect: Expectation[],
  ): Promise<void> {
    const messageId = newId();
    const result = await this.deps.store.commit({
      conversationId,
      event,
      actorId: actor.userId,
      messageId,
      data,
      system,
      mutations,
      expect,
      at: nowIso(),
    });
    if (result.status !== "committed") return;
    const [view] = await this.deps.renderer.render([result.message!]);
    await this.deps.events.publish(result.event, view);
  }

  /** Publishes a new conversation's first event (its members learn about it). */
  async #publishHead(conversationId: string): Promise<void> {
    const page = await this.deps.store.listEvents(conversationId, { after: 0, limit: 1 });
    const [view] = await this.deps.renderer.render([...page.messages.values()]);
    await this.deps.events.publish(page.events[0], view);
  }

  /** Views of list rows; `reactions` of their last messages when already at hand (cached). */
  async #views(
    viewerId: string,
    items: ConversationListItem[],
    reactions?: Map<string, ReactionSummary>,
  ): Promise<ConversationView[]> {
    const peers = new Map(
      (await this.deps.store.getUsers(items.map((i) => i.peerId).filter((p): p is string => !!p)))
        .map((u) => [u.id, u]),
    );
    const last = items.flatMap((i) => i.lastMessage ? [i.lastMessage] : []);
    const lastViews = new Map(
      (await (reactions
        ? this.deps.renderer.renderWith(last, reactions)
        : this.deps.renderer.render(last)))
        .map((v) => [v.id, messageFor(v, viewerId)]),
    );
    const now = nowIso();
    return await Promise.all(
      items.map(async ({ conversation: c, member: m, lastMessage, unreadCount, peerId }) => {
        const peer = peerId ? peers.get(peerId) : undefined;
        const mutedNow = m.muted && (!m.mutedUntil || m.mutedUntil > now);
        return omitNullish({
          id: c.id,
          type: c.type,
          name: c.name,
          description: c.description,
          avatar: c.avatarMediaId ? await this.deps.avatars.links(c.avatarMediaId) : null,
          memberCount: c.memberCount,
          myRole: m.role,
          lastMessage: lastMessage ? lastViews.get(lastMessage.id) : undefined,
          lastSeq: c.lastSeq,
          unreadCount,
          muted: mutedNow,
          mutedUntil: mutedNow && m.mutedUntil ? m.mutedUntil : undefined,
          archived: m.archived,
          settings: c.settings,
          retentionDays: c.retentionDays ?? undefined,
          peer: peer ? userSummary(peer) : undefined,
          createdAt: c.createdAt,
          updatedAt: c.updatedAt,
        } as ConversationView);
      }),
    );
  }

  async #memberViews(members: Member[]): Promise<MemberView[]> {
    const users = new Map(
      (await this.deps.store.getUsers(members.map((m) => m.userId))).map((u) => [u.id, u]),
    );
    return members.map((m) => {
      const u = users.get(m.userId);
      return {
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        user: u
          ? userSummary(u)
          : { id: m.userId, username: "deleted", displayName: "Deleted account", deleted: true },
      };
    });
  }

  async #checkUsers(ids: string[], field: string): Promise<void> {
    const found = new Set(
      (await this.deps.store.getUsers(ids)).filter((u) => !u.deletedAt).map((u) => u.id),
    );
    const unknown = ids.filter((id) => !found.has(id));
    if (unknown.length) {
      throw validationFailed([{
        path: field,
        message: `unknown users: ${unknown.slice(0, 10).join(", ")}`,
      }]);
    }
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

  #member(conversationId: string, userId: string, role: MemberRole, at: string): Member {
    return {
      conversationId,
      userId,
      role,
      joinedAt: at,
      readSeq: 0,
      deliveredSeq: 0,
      muted: false,
      mutedUntil: null,
      archived: false,
    };
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

function isMemberCursor(v: unknown): v is MemberCursor {
  const c = v as MemberCursor;
  return typeof c?.joinedAt === "string" && typeof c?.userId === "string";
}

function userSummary(
  u: { id: string; username: string; displayName: string; deletedAt: string | null },
) {
  return u.deletedAt
    ? { id: u.id, username: "deleted", displayName: "Deleted account", deleted: true as const }
    : { id: u.id, username: u.username, displayName: u.displayName };
}
