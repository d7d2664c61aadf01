import { conversationDep, userDep } from "../cache/cache.ts";
import type { MissReason, ReadThrough } from "../cache/read_through.ts";
import { decodeBase64, encodeBase64 } from "../domain/encoding.ts";
import type { Conversation, MessageRecord, ReactionSummary } from "../domain/types.ts";
import type { ConversationListItem, Store } from "../store/store.ts";
import type { MessageRenderer } from "./render.ts";

/** Stored messages with their reactions, ready for {@link MessageRenderer.renderWith}. */
export interface RawPage {
  messages: MessageRecord[];
  reactions: Map<string, ReactionSummary>;
  hasMore: boolean;
}

/** The first rows of a user's conversation list with the reactions of their last messages. */
export interface RawList {
  items: ConversationListItem[];
  reactions: Map<string, ReactionSummary>;
}

/** A viewer id no user has: the store's history "as nobody in particular sees it" (nothing hidden). */
const NOBODY = "";

/**
 * The two hot reads served through the read cache: the newest page of a conversation's history and
 * the first page of a user's conversation list. What is cached is what the store returned — records
 * with their bodies still encrypted, reactions with who reacted — never a rendered response: bodies
 * are decrypted, attachments and avatars signed, peers looked up and `me` worked out per request, so
 * encryption at rest, erasure and per-viewer fields hold exactly as without the cache.
 *
 * Validity (see docs/CACHE.md): a history page depends on its conversation; a list on its user and
 * every conversation they belong to. The store adapter wrapper (`src/cache/invalidating_store.ts`)
 * bumps those after each durable change, before anything is published.
 */
export class HotReads {
  constructor(
    private readonly deps: {
      store: Pick<Store, "messages" | "log" | "conversations">;
      renderer: MessageRenderer;
      reads: ReadThrough;
    },
  ) {}

  /**
   * The newest `limit` messages `viewerId` sees in a conversation, once `membership` (run beside the
   * cache lookup) has allowed it. The cached page is shared by all members; it is used when it was
   * built at the conversation's current `lastSeq` (a second check, against the store, that no
   * invalidation was lost) and none of its messages is hidden from the viewer. Anything else reads
   * the store.
   */
  async newest(
    viewerId: string,
    conversationId: string,
    options: { limit: number; membership: () => Promise<{ conversation: Conversation }> },
  ): Promise<RawPage> {
    const { limit } = options;
    const { reads, store, renderer } = this.deps;
    const key = historyKey(conversationId, limit);
    const [{ conversation }, { value, versions }] = await Promise.all([
      options.membership(),
      reads.lookup(key, [conversationDep(conversationId)], decodePage),
    ]);
    if (!versions) {
      reads.miss("history", "unavailable");
      return await this.#own(viewerId, conversation.id, limit);
    }
    let shared = value;
    let reason: MissReason | null = shared ? null : "absent";
    if (shared && shared.lastSeq !== conversation.lastSeq) {
      shared = null;
      reason = "stale";
    }
    if (!shared) {
      const page = await store.messages.listMessages(conversation.id, NOBODY, { limit });
      const reactions = await renderer.reactionsFor(page.messages);
      shared = { ...page, reactions, lastSeq: conversation.lastSeq };
      await reads.write(key, encodePage(shared), versions);
    }
    const hidden = await store.messages.hiddenMessageIds(
      viewerId,
      shared.messages.map((m) => m.id),
    );
    if (hidden.size > 0) {
      // The viewer deleted some of these for themselves: their newest page reaches further back.
      reads.miss("history", "personal");
      return await this.#own(viewerId, conversation.id, limit);
    }
    if (reason) reads.miss("history", reason);
    else reads.hit("history");
    return shared;
  }

  async #own(viewerId: string, conversationId: string, limit: number): Promise<RawPage> {
    const page = await this.deps.store.messages.listMessages(conversationId, viewerId, { limit });
    return { ...page, reactions: await this.deps.renderer.reactionsFor(page.messages) };
  }

  /** The first `rows` rows of `userId`'s conversation list (archived or not). */
  async firstListPage(userId: string, archived: boolean, rows: number): Promise<RawList> {
    const { reads, store } = this.deps;
    const key = `l${FORMAT}:${userId}:${archived ? 1 : 0}:${rows}`;
    const { value, versions } = await reads.lookup(key, [userDep(userId)], decodeList);
    if (value !== null) {
      reads.hit("conversations");
      return value;
    }
    reads.miss("conversations", versions ? "absent" : "unavailable");
    // Any of the user's conversations can move to the top of the list, so the entry depends on all
    // of them; their versions are read before the list itself (a change in between invalidates it).
    const shared = versions
      ? await reads.versions(
        (await store.log.conversationHeads(userId)).map((h) => conversationDep(h.id)),
      )
      : null;
    const items = await store.conversations.listConversations(userId, { archived, limit: rows });
    const list: RawList = {
      items,
      reactions: await this.deps.renderer.reactionsFor(
        items.flatMap((i) => i.lastMessage ? [i.lastMessage] : []),
      ),
    };
    if (versions && shared) await reads.write(key, encodeList(list), { ...versions, ...shared });
    return list;
  }
}

/** The layout of cached values; a release that changes it changes the keys too. */
const FORMAT = 1;

function historyKey(conversationId: string, limit: number): string {
  return `h${FORMAT}:${conversationId}:${limit}`;
}

interface SharedPage extends RawPage {
  lastSeq: number;
}

type Wire<T> = Omit<T, "body"> & { body: { keyId: string; blob: string } | null };

function encodeRecord(m: MessageRecord): Wire<MessageRecord> {
  return { ...m, body: m.body && { keyId: m.body.keyId, blob: encodeBase64(m.body.blob) } };
}

function decodeRecord(m: Wire<MessageRecord>): MessageRecord {
  return { ...m, body: m.body && { keyId: m.body.keyId, blob: decodeBase64(m.body.blob) } };
}

function encodePage(p: SharedPage): string {
  return JSON.stringify({
    lastSeq: p.lastSeq,
    hasMore: p.hasMore,
    messages: p.messages.map(encodeRecord),
    reactions: [...p.reactions],
  });
}

function decodePage(text: string): SharedPage {
  const p = JSON.parse(text);
  return {
    lastSeq: p.lastSeq,
    hasMore: p.hasMore,
    messages: p.messages.map(decodeRecord),
    reactions: new Map(p.reactions),
  };
}

function encodeList(list: RawList): string {
  return JSON.stringify({
    items: list.items.map((i) => ({
      ...i,
      lastMessage: i.lastMessage && encodeRecord(i.lastMessage),
    })),
    reactions: [...list.reactions],
  });
}

function decodeList(text: string): RawList {
  const l = JSON.parse(text);
  return {
    items: l.items.map((
      i: Omit<ConversationListItem, "lastMessage"> & {
        lastMessage: Wire<MessageRecord> | null;
      },
    ) => ({ ...i, lastMessage: i.lastMessage && decodeRecord(i.lastMessage) })),
    reactions: new Map(l.reactions),
  };
}
