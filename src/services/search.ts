import type { Actor } from "../domain/actor.ts";
import { invalidField, unavailable } from "../domain/errors.ts";
import {
  hasPhrase,
  highlights,
  parseQuery,
  PREFIX_LENGTH,
  type SearchQuery,
  words,
} from "../domain/search_text.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { IndexedMessage, Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";
import {
  messageFor,
  type MessageRenderer,
  type MessageView,
  type PollContent,
  type PublicMessage,
} from "./render.ts";
import { pollText } from "./search_index.ts";
import type { SearchTokens } from "./search_tokens.ts";

/** A search as the API takes it. */
export interface SearchInput {
  q: string;
  conversationId?: string;
  senderId?: string;
  has?: "media" | "link";
  before?: string;
  after?: string;
  sort?: "relevance" | "recent";
  limit?: number;
  cursor?: string;
}

export interface SearchResult {
  message: PublicMessage;
  conversationId: string;
  /** [start, end) offsets of matched words in `message.text`. */
  highlights: number[][];
}

/** Matches ranked by relevance: only the most recent this many are ranked. */
export const RELEVANCE_WINDOW = 200;
const ROUNDS = 6;

/**
 * Message search: the index yields candidates by keyed tokens (every query word, and the first
 * letters of an unfinished last word); each candidate is then loaded, decrypted and checked — still
 * live, not expired, not hidden from the caller, in a conversation they are a member of now, holding
 * every word, the phrases in order and the prefix — before it is shown with its highlights.
 */
export class SearchService {
  constructor(
    private readonly deps: {
      store: Pick<Store, "search" | "messages" | "log">;
      conversations: ConversationsService;
      renderer: MessageRenderer;
      tokens: SearchTokens;
      /** False when the deployment keeps no index (`SEARCH_ENABLED=false`). */
      enabled?: boolean;
    },
  ) {}

  async search(
    actor: Actor,
    input: SearchInput,
  ): Promise<{ results: SearchResult[]; nextCursor: string | null }> {
    if (this.deps.enabled === false) throw unavailable("Search is turned off on this server");
    let query: SearchQuery | null;
    try {
      query = parseQuery(input.q);
    } catch (err) {
      throw invalidField("q", (err as Error).message);
    }
    if (!query) throw invalidField("q", "must contain a word");
    const limit = Math.min(Math.max(input.limit ?? 20, 1), 50);
    const conversationIds = input.conversationId
      ? [(await this.deps.conversations.membership(actor, input.conversationId)).conversation.id]
      : (await this.deps.store.log.conversationHeads(actor.userId)).map((h) => h.id);
    const tokens = [
      ...query.words.map((w) => this.deps.tokens.word(w)),
      ...(query.prefix !== null
        ? [
          [...query.prefix].length >= PREFIX_LENGTH
            ? this.deps.tokens.prefix(query.prefix)
            : this.deps.tokens.word(query.prefix),
        ]
        : []),
    ];
    const base = {
      tokens,
      conversationIds,
      senderId: input.senderId,
      hasMedia: input.has === "media" || undefined,
      hasLink: input.has === "link" || undefined,
      before: input.before,
      after: input.after,
    };
    const viewer = await this.deps.renderer.viewer(actor.userId);
    if (input.sort === "relevance") {
      const offset = input.cursor ? Number(input.cursor.slice(2)) || 0 : 0;
      const all = await this.#matches(actor, query, base, RELEVANCE_WINDOW, undefined);
      all.sort((a, b) => b.score - a.score || b.message.id.localeCompare(a.message.id));
      const page = all.slice(offset, offset + limit);
      return {
        results: page.map((r) => this.#result(r, query!, viewer)),
        nextCursor: offset + limit < all.length ? `r:${offset + limit}` : null,
      };
    }
    const below = input.cursor?.startsWith("m:") ? input.cursor.slice(2) : undefined;
    const { hits, scannedTo } = await this.#scan(actor, query, base, limit + 1, below);
    const page = hits.slice(0, limit);
    // A full page continues after its last result; a short one whose scan stopped before the end
    // of the candidates (few of them held up on the text) continues where the scan stopped.
    const nextCursor = hits.length > limit
      ? `m:${page.at(-1)!.message.id}`
      : scannedTo !== null
      ? `m:${scannedTo}`
      : null;
    return { results: page.map((r) => this.#result(r, query!, viewer)), nextCursor };
  }

  /** Verified matches, newest first, until `want` are found or the candidates run out. */
  async #matches(
    actor: Actor,
    query: SearchQuery,
    base: Omit<Parameters<Store["search"]["candidates"]>[0], "limit" | "belowMessageId">,
    want: number,
    below: string | undefined,
  ): Promise<Array<{ message: MessageView; score: number }>> {
    return (await this.#scan(actor, query, base, want, below)).hits;
  }

  /**
   * Verified matches, newest first, until `want` are found, the candidates run out, or
   * {@link ROUNDS} batches were checked; `scannedTo` is the last candidate checked when the scan
   * stopped before the candidates ran out (null otherwise).
   */
  async #scan(
    actor: Actor,
    query: SearchQuery,
    base: Omit<Parameters<Store["search"]["candidates"]>[0], "limit" | "belowMessageId">,
    want: number,
    below: string | undefined,
  ): Promise<{ hits: Array<{ message: MessageView; score: number }>; scannedTo: string | null }> {
    const hits: Array<{ message: MessageView; score: number }> = [];
    let cursor = below;
    for (let round = 0; round < ROUNDS && hits.length < want; round++) {
      const limit = Math.max(50, (want - hits.length) * 2);
      const batch = await this.deps.store.search.candidates({
        ...base,
        belowMessageId: cursor,
        limit,
      });
      if (batch.length === 0) return { hits, scannedTo: null };
      cursor = batch.at(-1)!.messageId;
      for (const hit of await this.#verify(actor, query, batch)) {
        if (hits.length < want) hits.push(hit);
      }
      if (batch.length < limit) return { hits, scannedTo: null };
    }
    return { hits, scannedTo: hits.length < want ? cursor ?? null : null };
  }

  async #verify(actor: Actor, query: SearchQuery, batch: IndexedMessage[]) {
    const found = await Promise.all(
      batch.map((c) => this.deps.store.messages.getMessage(c.conversationId, c.messageId)),
    );
    // Entries whose message is gone or deleted for good (the index lagging, or a crash between a
    // retention batch and its index clean-up) are dropped from the index as they are met.
    const stale = batch.filter((_, i) => !found[i] || found[i]!.deletedAt).map((c) => c.messageId);
    if (stale.length) this.deps.store.search.removeMessages(stale).catch(() => {});
    const records = found.filter((m): m is MessageRecord => m !== null);
    const now = new Date().toISOString();
    const live = records.filter((m) =>
      !m.deletedAt && !m.system && !(m.expiresAt !== undefined && m.expiresAt <= now)
    );
    const hidden = await this.deps.store.messages.hiddenMessageIds(
      actor.userId,
      live.map((m) => m.id),
    );
    const visible = live.filter((m) => !hidden.has(m.id));
    // Checked on the decrypted text; only what holds up is rendered (attachments, reactions…).
    const texts = await this.deps.renderer.texts(visible);
    const held: Array<{ record: MessageRecord; score: number }> = [];
    for (const record of visible) {
      const body = texts.get(record.id) ?? null;
      if (body === null) continue;
      const text = record.kind === "poll" ? pollBody(body) : body;
      const ws = words(text);
      const present = new Set(ws);
      if (!query.words.every((w) => present.has(w))) continue;
      if (query.prefix !== null) {
        const p = query.prefix;
        const ok = [...p].length < PREFIX_LENGTH ? present.has(p) : ws.some((w) => w.startsWith(p));
        if (!ok) continue;
      }
      if (!query.phrases.every((phrase) => hasPhrase(ws, phrase))) continue;
      const score = ws.filter((w) =>
        query.words.includes(w) || (query.prefix !== null && w.startsWith(query.prefix))
      ).length + query.phrases.length * 2;
      held.push({ record, score });
    }
    const plain = new Map(held.map((h) => [h.record.id, texts.get(h.record.id)!]));
    const views = await this.deps.renderer.render(held.map((h) => h.record), plain);
    const out = views.map((message, i) => ({ message, score: held[i].score }));
    // Keep the index's order (newest first).
    return out.sort((a, b) => b.message.id.localeCompare(a.message.id));
  }

  #result(
    r: { message: MessageView },
    query: SearchQuery,
    viewer: Awaited<ReturnType<MessageRenderer["viewer"]>>,
  ): SearchResult {
    return {
      message: messageFor(r.message, viewer),
      conversationId: r.message.conversationId,
      highlights: highlights(r.message.text ?? "", query.words, query.prefix),
    };
  }
}

/** A poll's searchable text from its sealed body (the JSON of its question and options). */
function pollBody(body: string): string {
  try {
    return pollText(JSON.parse(body) as PollContent);
  } catch {
    return "";
  }
}
