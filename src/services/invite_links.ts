import type { Actor } from "../domain/actor.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { gone, invalidField, notFound } from "../domain/errors.ts";
import { futureTime } from "../domain/future_time.ts";
import { encodeBase64Url } from "../domain/encoding.ts";
import type { Conversation } from "../domain/types.ts";
import { foldText } from "../domain/words.ts";
import { nowIso } from "../ids.ts";
import type { DiscoverCursor, InviteLinkRecord, Store } from "../store/store.ts";
import { requireGroup, requirePermission } from "./_conversation_changes.ts";
import type { ConversationMembers } from "./conversation_members.ts";
import type { ConversationsService } from "./conversations.ts";
import type { ConversationView } from "./conversation_views.ts";
import type { AvatarResolver, MediaRef } from "./users.ts";

/** An invite link as the group's admins see it. */
export interface InviteLinkView {
  code: string;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  createdBy: string;
  createdAt: string;
}

/** What anyone signed in sees of a group before joining it. */
export interface GroupPreview {
  id: string;
  name: string | null;
  description?: string;
  avatar: MediaRef | null;
  memberCount: number;
}

/** Uses an invite link may have at most. */
export const MAX_INVITE_USES = 100_000;

function linkView(l: InviteLinkRecord): InviteLinkView {
  return {
    code: l.code,
    expiresAt: l.expiresAt,
    maxUses: l.maxUses,
    uses: l.uses,
    createdBy: l.createdBy,
    createdAt: l.createdAt,
  };
}

/** Why a link can no longer be used, or null while it can. */
function unusable(l: InviteLinkRecord, now: string): string | null {
  if (l.revokedAt) return "This invite link was revoked";
  if (l.expiresAt && l.expiresAt <= now) return "This invite link has expired";
  if (l.maxUses !== null && l.uses >= l.maxUses) return "This invite link was used up";
  return null;
}

function isDiscoverCursor(v: unknown): v is DiscoverCursor {
  const c = v as DiscoverCursor;
  return typeof c?.name === "string" && typeof c?.id === "string";
}

/**
 * Ways into a group without being added: invite links (admins, or any member when
 * `membersCanAddMembers`; with an expiry and a use limit, revocable; 410 `gone` once unusable,
 * uses counted in the join's commit so concurrent joins never overshoot) and public groups
 * (`settings.public`: found by discovery, joined by anyone). Banned users are refused (403
 * `banned`) either way.
 */
export class InviteLinks {
  constructor(
    private readonly deps: {
      store: Pick<Store, "conversations" | "moderation">;
      conversations: ConversationsService;
      members: ConversationMembers;
      avatars: AvatarResolver;
    },
  ) {}

  async create(
    actor: Actor,
    conversationId: string,
    input: { expiresAt?: string | null; maxUses?: number | null },
  ): Promise<InviteLinkView> {
    await this.#manager(actor, conversationId);
    const expiresAt = input.expiresAt ? futureTime(input.expiresAt, "expiresAt") : null;
    const maxUses = input.maxUses ?? null;
    if (maxUses !== null && (maxUses < 1 || maxUses > MAX_INVITE_USES)) {
      throw invalidField("maxUses", `must be 1 to ${MAX_INVITE_USES}`);
    }
    const link: InviteLinkRecord = {
      code: encodeBase64Url(crypto.getRandomValues(new Uint8Array(12))),
      conversationId,
      createdBy: actor.userId,
      createdAt: nowIso(),
      expiresAt,
      maxUses,
      uses: 0,
      revokedAt: null,
    };
    await this.deps.store.moderation.createInviteLink(link);
    return linkView(link);
  }

  /** The group's links that are not revoked, newest first. */
  async list(actor: Actor, conversationId: string): Promise<InviteLinkView[]> {
    await this.#manager(actor, conversationId);
    return (await this.deps.store.moderation.listInviteLinks(conversationId)).map(linkView);
  }

  async revoke(actor: Actor, conversationId: string, code: string): Promise<void> {
    await this.#manager(actor, conversationId);
    if (!await this.deps.store.moderation.revokeInviteLink(conversationId, code, nowIso())) {
      const link = await this.deps.store.moderation.getInviteLink(code);
      if (!link || link.conversationId !== conversationId) throw notFound("Invite link not found");
    }
  }

  /** The group a link leads to; 404 for an unknown code, 410 once it cannot be used. */
  async preview(code: string): Promise<{ conversation: GroupPreview }> {
    const { conversation } = await this.#usable(code);
    return { conversation: await this.#preview(conversation) };
  }

  /** Joins the group of a link (a member already just gets the group). */
  async join(actor: Actor, code: string): Promise<{ conversation: ConversationView }> {
    const { link, conversation } = await this.#usable(code);
    await this.deps.members.join(actor.userId, conversation, {
      kind: "link",
      code: link.code,
      gone: gone("This invite link can no longer be used"),
    });
    return { conversation: await this.deps.conversations.get(actor, conversation.id) };
  }

  /** Public groups whose name contains `q` (case- and accent-insensitive), by name. */
  async discover(
    options: { q?: string; limit: number; cursor?: string },
  ): Promise<{ conversations: GroupPreview[]; nextCursor?: string }> {
    const after = options.cursor ? decodeCursor(options.cursor, isDiscoverCursor) : undefined;
    const found = await this.deps.store.moderation.discoverGroups({
      query: foldText(options.q?.trim() ?? ""),
      limit: options.limit + 1,
      after,
    });
    const page = found.slice(0, options.limit);
    const groups = await Promise.all(
      page.map((g) => this.deps.store.conversations.getConversation(g.id)),
    );
    const conversations = await Promise.all(
      groups.filter((c): c is Conversation => !!c).map((c) => this.#preview(c)),
    );
    const last = page.at(-1);
    return found.length > options.limit && last
      ? { conversations, nextCursor: encodeCursor({ name: last.nameFold, id: last.id }) }
      : { conversations };
  }

  /** Joins a public group; 404 for a group that is not public (its existence is not revealed). */
  async joinPublic(
    actor: Actor,
    conversationId: string,
  ): Promise<{ conversation: ConversationView }> {
    const c = await this.deps.store.conversations.getConversation(conversationId);
    const member = c ? await this.deps.store.conversations.getMember(c.id, actor.userId) : null;
    if (!c || c.deletedAt || c.type !== "group" || (!c.settings.public && !member)) {
      throw notFound("Conversation not found");
    }
    await this.deps.members.join(actor.userId, c, { kind: "public" });
    return { conversation: await this.deps.conversations.get(actor, c.id) };
  }

  async #manager(actor: Actor, conversationId: string): Promise<void> {
    const { conversation, member } = requireGroup(
      await this.deps.conversations.membership(actor, conversationId),
    );
    requirePermission(member.role, "manageInvites", null, conversation.settings);
  }

  async #usable(code: string): Promise<{ link: InviteLinkRecord; conversation: Conversation }> {
    const link = code.length <= 64 ? await this.deps.store.moderation.getInviteLink(code) : null;
    const conversation = link
      ? await this.deps.store.conversations.getConversation(link.conversationId)
      : null;
    if (!link || !conversation) throw notFound("Invite link not found");
    const why = conversation.deletedAt ? "The group was deleted" : unusable(link, nowIso());
    if (why) throw gone(why);
    return { link, conversation };
  }

  async #preview(c: Conversation): Promise<GroupPreview> {
    return {
      id: c.id,
      name: c.name,
      ...(c.description ? { description: c.description } : {}),
      avatar: c.avatarMediaId ? await this.deps.avatars.links(c.avatarMediaId) : null,
      memberCount: c.memberCount,
    };
  }
}
