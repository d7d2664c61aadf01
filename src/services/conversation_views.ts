import type { GroupSettings, Member, MemberRole, ReactionSummary } from "../domain/types.ts";
import { nowIso } from "../ids.ts";
import type { ConversationListItem, NotifyLevel, Store } from "../store/store.ts";
import { defaultNotify } from "./push.ts";
import { messageFor, type MessageRenderer, type PublicMessage } from "./render.ts";
import { type AvatarResolver, type MediaRef, omitNullish } from "./users.ts";

/** A conversation as one member sees it. */
export interface ConversationView {
  /** On creation: members whose privacy made them invited rather than added. */
  invited?: string[];
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
  unreadMentionCount: number;
  muted: boolean;
  mutedUntil?: string;
  /** What of this conversation reaches the user by push (their choice, or the default). */
  notify: NotifyLevel;
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
  /** A moderator's mute that has not run out yet. */
  mutedUntil?: string;
  user: { id: string; username: string; displayName: string; deleted?: true };
}

/**
 * Conversations and members as the API shows them: last messages rendered for the viewer, avatars
 * as signed links, a mute that has run out as not muted, and erased accounts (in member lists also
 * users no longer found) as "Deleted account".
 */
export class ConversationViews {
  constructor(
    private readonly deps: {
      store: Pick<Store, "accounts" | "push">;
      renderer: MessageRenderer;
      avatars: AvatarResolver;
    },
  ) {}

  /**
   * Views of list rows for `viewerId`, in their order; `reactions` of their last messages when
   * already at hand (cached).
   */
  async conversations(
    viewerId: string,
    items: ConversationListItem[],
    options: { reactions?: Map<string, ReactionSummary> } = {},
  ): Promise<ConversationView[]> {
    const { reactions } = options;
    const peers = new Map(
      (await this.deps.store.accounts.getUsers(
        items.map((i) => i.peerId).filter((p): p is string => !!p),
      ))
        .map((u) => [u.id, u]),
    );
    const last = items.flatMap((i) => i.lastMessage ? [i.lastMessage] : []);
    const [rendered, viewer, notify] = await Promise.all([
      reactions ? this.deps.renderer.renderWith(last, reactions) : this.deps.renderer.render(last),
      last.length ? this.deps.renderer.viewer(viewerId) : viewerId,
      this.deps.store.push.conversationNotify(viewerId, items.map((i) => i.conversation.id)),
    ]);
    const lastViews = new Map(rendered.map((v) => [v.id, messageFor(v, viewer)]));
    const now = nowIso();
    return await Promise.all(
      items.map(async (item) => {
        const { conversation: c, member: m, lastMessage, unreadCount, peerId } = item;
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
          unreadMentionCount: item.unreadMentionCount,
          muted: mutedNow,
          mutedUntil: mutedNow && m.mutedUntil ? m.mutedUntil : undefined,
          notify: notify.get(c.id)?.notify ?? defaultNotify(c),
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

  /** Views of `members`, in their order. */
  async members(members: Member[]): Promise<MemberView[]> {
    const users = new Map(
      (await this.deps.store.accounts.getUsers(members.map((m) => m.userId))).map((u) => [u.id, u]),
    );
    const now = nowIso();
    return members.map((m) => {
      const u = users.get(m.userId);
      return {
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        ...(m.silencedUntil && m.silencedUntil > now ? { mutedUntil: m.silencedUntil } : {}),
        user: u
          ? userSummary(u)
          : { id: m.userId, username: "deleted", displayName: "Deleted account", deleted: true },
      };
    });
  }
}

function userSummary(
  u: { id: string; username: string; displayName: string; deletedAt: string | null },
) {
  return u.deletedAt
    ? { id: u.id, username: "deleted", displayName: "Deleted account", deleted: true as const }
    : { id: u.id, username: u.username, displayName: u.displayName };
}
