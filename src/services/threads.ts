import type { Actor } from "../domain/actor.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { notFound } from "../domain/errors.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { Store, ThreadCursor, ThreadRow } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";
import type { Notices } from "./notices.ts";
import { messageFor, type MessageRenderer, type PublicMessage } from "./render.ts";
import type { UserData } from "./user_data.ts";

/** A thread in a list, as one viewer sees it. */
export interface ThreadListEntry {
  conversationId: string;
  root: PublicMessage;
  replyCount: number;
  lastReplyAt: string;
  unreadCount: number;
}

function isThreadCursor(v: unknown): v is ThreadCursor {
  const c = v as ThreadCursor;
  return typeof c?.lastReplyAt === "string" && typeof c?.rootId === "string";
}

/**
 * Threads: the replies of a root message (durable `message.created` events with `threadId`, kept
 * out of the main history unless sent `alsoInConversation`), a conversation's threads and the
 * threads a user follows, latest reply first with per-thread unread counts, and per-thread read
 * markers (monotonic; a move reaches the user's other devices as a `thread.read` user event).
 */
export class ThreadsService implements UserData {
  readonly exportPath = "threads.jsonl";
  readonly exportDescription = "the threads you follow and how far you have read each";

  constructor(
    private readonly deps: {
      store: Pick<Store, "messages">;
      conversations: ConversationsService;
      renderer: MessageRenderer;
      notices: Notices;
    },
  ) {}

  /** A page of a thread's replies (ascending seq), with the root; 404 for what is no thread root. */
  async replies(
    actor: Actor,
    conversationId: string,
    rootId: string,
    options: { before?: number; after?: number; limit: number },
  ): Promise<{ root: PublicMessage; messages: PublicMessage[]; hasMore: boolean }> {
    await this.deps.conversations.membership(actor, conversationId);
    const root = await this.#root(conversationId, rootId);
    const page = await this.deps.store.messages.listThreadReplies(
      conversationId,
      rootId,
      actor.userId,
      options,
    );
    const [views, viewer] = await Promise.all([
      this.deps.renderer.render([root, ...page.messages]),
      this.deps.renderer.viewer(actor.userId),
    ]);
    const [rootView, ...replies] = views.map((v) => messageFor(v, viewer));
    return { root: rootView, messages: replies, hasMore: page.hasMore };
  }

  /** The conversation's threads, latest reply first. */
  async list(
    actor: Actor,
    conversationId: string,
    options: { limit: number; cursor?: string },
  ): Promise<{ threads: ThreadListEntry[]; nextCursor?: string }> {
    await this.deps.conversations.membership(actor, conversationId);
    const after = options.cursor ? decodeCursor(options.cursor, isThreadCursor) : undefined;
    const rows = await this.deps.store.messages.listThreads(conversationId, actor.userId, {
      limit: options.limit + 1,
      after,
    });
    return await this.#page(actor, rows, options.limit);
  }

  /** The threads the caller follows (replied in, was mentioned in, or wrote the root of). */
  async followed(
    actor: Actor,
    options: { limit: number; cursor?: string },
  ): Promise<{ threads: ThreadListEntry[]; nextCursor?: string }> {
    const after = options.cursor ? decodeCursor(options.cursor, isThreadCursor) : undefined;
    const rows = await this.deps.store.messages.listFollowedThreads(actor.userId, {
      limit: options.limit + 1,
      after,
    });
    return await this.#page(actor, rows, options.limit);
  }

  /**
   * Moves the caller's read marker in a thread to `seq` (clamped to the conversation's head);
   * lower positions are ignored. Returns whether it moved.
   */
  async markRead(
    actor: Actor,
    conversationId: string,
    rootId: string,
    seq: number,
  ): Promise<boolean> {
    const { conversation } = await this.deps.conversations.membership(actor, conversationId);
    await this.#root(conversationId, rootId);
    const target = Math.min(Math.max(0, Math.floor(seq)), conversation.lastSeq);
    if (target === 0) return false;
    const moved = await this.deps.store.messages.advanceThreadMarker(
      conversationId,
      rootId,
      actor.userId,
      target,
    );
    if (moved === null) return false;
    await this.deps.notices.notifyUser(actor.userId, {
      event: "thread.read",
      conversationId,
      data: { conversationId, rootId, seq: moved },
    });
    return true;
  }

  async exportUser(userId: string): Promise<unknown[]> {
    return await this.deps.store.messages.listThreadMemberships(userId);
  }

  /** A user's thread state goes at the end of their erasure, with their other remaining data. */
  eraseUser(): Promise<number> {
    return Promise.resolve(0);
  }

  async #root(conversationId: string, rootId: string): Promise<MessageRecord> {
    const root = await this.deps.store.messages.getMessage(conversationId, rootId);
    if (!root || root.threadId || root.kind === "system") throw notFound("Thread not found");
    return root;
  }

  async #page(
    actor: Actor,
    rows: ThreadRow[],
    limit: number,
  ): Promise<{ threads: ThreadListEntry[]; nextCursor?: string }> {
    const page = rows.slice(0, limit);
    const viewer = await this.deps.renderer.viewer(actor.userId);
    const views = await this.deps.renderer.renderWith(
      page.map((r) => r.root),
      this.deps.renderer.reactionsFor(page.map((r) => r.root)),
      undefined,
      new Map(page.map((r) => [r.root.id, r.summary])),
    );
    const threads = page.map((r, i) => ({
      conversationId: r.summary.conversationId,
      root: messageFor(views[i], viewer),
      replyCount: r.summary.replyCount,
      lastReplyAt: r.summary.lastReplyAt,
      unreadCount: r.unreadCount,
    }));
    const last = page.at(-1);
    return rows.length > limit && last
      ? {
        threads,
        nextCursor: encodeCursor({ lastReplyAt: last.summary.lastReplyAt, rootId: last.root.id }),
      }
      : { threads };
  }
}
