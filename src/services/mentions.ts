import type { Actor } from "../domain/actor.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import type { Store } from "../store/store.ts";
import { messageFor, type MessageRenderer, type PublicMessage } from "./render.ts";

interface FeedCursor {
  createdAt: string;
  id: string;
}

function isFeedCursor(v: unknown): v is FeedCursor {
  const c = v as FeedCursor;
  return typeof c?.createdAt === "string" && typeof c?.id === "string";
}

/**
 * The mentions feed: messages that mention the caller by name or mention everyone, across the
 * conversations they are a member of, newest first. (Each conversation's `unreadMentionCount`
 * counts the unread ones.)
 */
export class MentionsFeed {
  constructor(
    private readonly deps: { store: Pick<Store, "messages">; renderer: MessageRenderer },
  ) {}

  /** One page of the caller's mentions, cursor-paginated. */
  async list(
    actor: Actor,
    options: { limit: number; cursor?: string },
  ): Promise<{ messages: PublicMessage[]; nextCursor?: string }> {
    const before = options.cursor ? decodeCursor(options.cursor, isFeedCursor) : undefined;
    const rows = await this.deps.store.messages.listMentions(actor.userId, {
      limit: options.limit + 1,
      before,
    });
    const page = rows.slice(0, options.limit);
    const hidden = await this.deps.store.messages.hiddenMessageIds(
      actor.userId,
      page.map((m) => m.id),
    );
    const [views, viewer] = await Promise.all([
      this.deps.renderer.render(page.filter((m) => !hidden.has(m.id))),
      this.deps.renderer.viewer(actor.userId),
    ]);
    const messages = views.map((v) => messageFor(v, viewer));
    const last = page.at(-1);
    return rows.length > options.limit && last
      ? { messages, nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) }
      : { messages };
  }
}
