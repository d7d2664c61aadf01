import { createHMAC, createSHA256, type IHasher } from "hash-wasm";
import { PREFIX_LENGTH, words } from "../domain/search_text.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import { SEARCH_TOKEN_BYTES } from "../store/search.ts";
import type { IndexBatch, IndexedMessage, Store } from "../store/store.ts";
import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import type { PollContent } from "./render.ts";

/** Events per indexing step: one write each, short enough not to hold message commits back. */
const PAGE = 100;
const BUSY_PAGE = 10;
/** Above this many local commits a second, indexing yields (see `share`). */
const BUSY_COMMITS_PER_SECOND = 200;
const SWEEP_MS = 1000;
/** A commit is indexed this long after it, so a busy conversation's messages come in one batch. */
const GATHER_MS = 100;
const LINK = /\bhttps?:\/\/\S/i;

/**
 * The keyed tokens of words: HMAC-SHA-256 under a key derived (HKDF) from the active encryption key,
 * truncated to 16 bytes, in two domains — a whole word (`w`) and a word's first three letters (`p`,
 * for the unfinished last word of a query). The index holds only these: someone with the database
 * but not the key sees which messages share a token and how often a token occurs, never the word.
 */
export class SearchTokens {
  private constructor(private readonly hmac: IHasher, readonly keyVersion: number) {}

  /** Derives the key from the active encryption key (`ENCRYPTION_ACTIVE_KEY_ID`). */
  static async create(encryption: { keys: Map<string, Uint8Array>; activeKeyId: string }) {
    const raw = encryption.keys.get(encryption.activeKeyId)!;
    const base = await crypto.subtle.importKey("raw", raw as BufferSource, "HKDF", false, [
      "deriveBits",
    ]);
    const key = new Uint8Array(
      await crypto.subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new TextEncoder().encode("parley:search"),
          info: new TextEncoder().encode(`parley:search-index:v1:${encryption.activeKeyId}`),
        },
        base,
        256,
      ),
    );
    // A small number naming the key, so messages indexed under another one can be found.
    const version = new DataView(
      await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(`search:${encryption.activeKeyId}`),
      ),
    ).getUint32(0) & 0x7fffffff;
    return new SearchTokens(await createHMAC(createSHA256(), key), version);
  }

  #token(domain: string, value: string): Uint8Array {
    this.hmac.init();
    this.hmac.update(`${domain}\u0000${value}`);
    return (this.hmac.digest("binary") as Uint8Array).slice(0, SEARCH_TOKEN_BYTES);
  }

  word(w: string): Uint8Array {
    return this.#token("w", w);
  }

  /** The token that finds words starting with `prefix` (its first {@link PREFIX_LENGTH} letters). */
  prefix(prefix: string): Uint8Array {
    return this.#token("p", [...prefix].slice(0, PREFIX_LENGTH).join(""));
  }

  /** Every token of a text: each distinct word, and the first three letters of the longer ones. */
  ofText(text: string): Uint8Array[] {
    const out = new Map<string, Uint8Array>();
    for (const w of new Set(words(text))) {
      out.set(`w${w}`, this.word(w));
      const chars = [...w];
      if (chars.length >= PREFIX_LENGTH) {
        const p = chars.slice(0, PREFIX_LENGTH).join("");
        if (!out.has(`p${p}`)) out.set(`p${p}`, this.prefix(p));
      }
    }
    return [...out.values()];
  }
}

/**
 * Keeps the search index up to date, off the send path: each instance indexes the conversations it
 * commits to as soon as the commit is published locally, and every second sweeps conversations whose
 * head is past what is indexed (what another instance did not finish, a crash). It reads events
 * after the conversation's indexed seq; every event about a message (re)indexes that message as it
 * is now — so an edit replaces its tokens, and a message deleted for everyone, expired or removed by
 * retention or erasure leaves the index.
 */
export class SearchIndexer {
  #running = new Map<string, Promise<void>>();
  #again = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;
  /** When the next page may be indexed (see `share`). */
  #freeAt = 0;
  /** Local commits in the current and the previous second (how busy sends are). */
  #commits = { second: 0, now: 0, before: 0 };
  /** Heads the sweep saw, for conversations whose events past the progress are gone. */
  #heads = new Map<string, number>();
  /** When a conversation was first seen with no event past its progress below its head. */
  #emptySince = new Map<string, number>();
  #closed = false;
  readonly #indexed;

  constructor(
    private readonly deps: {
      store: Pick<Store, "search" | "log">;
      dataKeys: DataKeys;
      tokens: SearchTokens;
      logger: Logger;
      metrics: MetricsRegistry;
      /**
       * The share of time indexing may take while this instance commits more than 200 messages a
       * second (default 0.03: after a page that took t ms the next waits 32t). Below that rate it
       * runs freely. Sends never queue behind indexing; under a load the server cannot index as
       * fast as it commits, the index falls behind and catches up once the load drops.
       */
      share?: number;
    },
  ) {
    this.#indexed = deps.metrics.counter(
      "parley_search_indexed_total",
      "Messages (re)indexed or removed from the search index",
    );
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sweep(), SWEEP_MS);
    Deno.unrefTimer(this.#timer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#running.values()]);
  }

  /** A durable event of the conversation was committed here: index it now. */
  touched(conversationId: string): void {
    if (this.#closed) return;
    const second = Math.floor(performance.now() / 1000);
    if (second !== this.#commits.second) {
      this.#commits = {
        second,
        now: 0,
        before: second === this.#commits.second + 1 ? this.#commits.now : 0,
      };
    }
    this.#commits.now++;
    if (this.#running.has(conversationId)) {
      this.#again.add(conversationId);
      return;
    }
    const run: Promise<void> = new Promise((r) => setTimeout(r, GATHER_MS))
      .then(() => this.#index(conversationId))
      .then(() => {}, (err) =>
        this.deps.logger.warn("search indexing failed", {
          "parley.conversation.id": conversationId,
          "error.message": String(err),
        }))
      .finally(() => {
        this.#running.delete(conversationId);
        if (this.#again.delete(conversationId)) this.touched(conversationId);
      });
    this.#running.set(conversationId, run);
  }

  /** Indexes everything behind, then re-indexes messages under an older key; for the task. */
  async catchUp(): Promise<number> {
    let n = 0;
    for (let idle = 0; idle < 3;) {
      const behind = await this.deps.store.search.behind(100);
      for (const b of behind) n += await this.#index(b.conversationId, b.lastSeq);
      const stale = await this.deps.store.search.staleMessages(
        this.deps.tokens.keyVersion,
        PAGE,
      );
      n += await this.#reindexStale(stale);
      if (stale.length === 0) {
        if (behind.length === 0) return n;
        idle++; // only conversations whose head events are still settling (MongoDB)
        await new Promise((r) => setTimeout(r, this.deps.store.log.holeSettleMs + 100));
      }
    }
    return n;
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    try {
      for (const b of await this.deps.store.search.behind(100)) {
        this.#heads.set(b.conversationId, b.lastSeq);
        this.touched(b.conversationId);
      }
      const stale = await this.deps.store.search.staleMessages(this.deps.tokens.keyVersion, 50);
      await this.#reindexStale(stale);
    } catch (err) {
      this.deps.logger.warn("search sweep failed", { "error.message": String(err) });
    } finally {
      this.#sweeping = false;
    }
  }

  async #reindexStale(stale: IndexedMessage[]): Promise<number> {
    const batch: IndexBatch = { index: [], remove: [], keyVersion: this.deps.tokens.keyVersion };
    for (const s of stale) {
      const page = await this.deps.store.log.listEvents(s.conversationId, {
        after: s.seq - 1,
        limit: 1,
      });
      const m = page.messages.get(s.messageId);
      await this.#add(batch, m, s.messageId);
    }
    if (stale.length) await this.deps.store.search.applyIndex(batch);
    return stale.length;
  }

  /**
   * Indexes a conversation's events after its progress; how many messages it touched. Each page of
   * events is one write. When its head is known and no event is left between progress and head
   * (retention removed them, or a write that never committed left a hole), the progress moves to
   * the head — at once with transactions, after the log's hole-settle time without.
   */
  async #index(conversationId: string, head = this.#heads.get(conversationId)): Promise<number> {
    const { search, log } = this.deps.store;
    let after = (await search.progress([conversationId])).get(conversationId) ?? 0;
    let n = 0;
    for (;;) {
      await this.#turn();
      const started = performance.now();
      const page = await log.listEvents(conversationId, {
        after,
        limit: this.#busy() ? BUSY_PAGE : PAGE,
      });
      if (page.events.length === 0) {
        if (head !== undefined && head > after) await this.#skipTo(conversationId, head);
        return n;
      }
      this.#emptySince.delete(conversationId);
      const batch: IndexBatch = { index: [], remove: [], keyVersion: this.deps.tokens.keyVersion };
      const seen = new Set<string>();
      for (const e of page.events) {
        if (!e.messageId || seen.has(e.messageId)) continue;
        seen.add(e.messageId);
        await this.#add(batch, page.messages.get(e.messageId), e.messageId);
        n++;
      }
      after = page.events.at(-1)!.seq;
      batch.progress = { conversationId, seq: after };
      await search.applyIndex(batch);
      this.#spent(performance.now() - started);
      if (!page.hasMore) return n;
    }
  }

  /** Waits until indexing may take its share of time again. */
  async #turn(): Promise<void> {
    for (;;) {
      const wait = this.#freeAt - performance.now();
      if (wait <= 0 || this.#closed) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Whether sends are busy on this instance (the last full second's local commits). */
  #busy(): boolean {
    const second = Math.floor(performance.now() / 1000);
    const last = second === this.#commits.second
      ? this.#commits.before
      : second === this.#commits.second + 1
      ? this.#commits.now
      : 0;
    return last > BUSY_COMMITS_PER_SECOND;
  }

  #spent(ms: number): void {
    const share = this.deps.share ?? 0.03;
    if (share >= 1 || !this.#busy()) return;
    this.#freeAt = Math.max(this.#freeAt, performance.now() + ms * (1 / share - 1));
  }

  async #skipTo(conversationId: string, head: number): Promise<void> {
    const settle = this.deps.store.log.holeSettleMs;
    const since = this.#emptySince.get(conversationId) ?? performance.now();
    this.#emptySince.set(conversationId, since);
    if (settle > 0 && performance.now() - since < settle * 2) return;
    this.#emptySince.delete(conversationId);
    this.#heads.delete(conversationId);
    await this.deps.store.search.setProgress(conversationId, head);
  }

  /** The words a message holds: its text, or a poll's question and options. */
  async #text(m: MessageRecord): Promise<string> {
    if (!m.body) return "";
    const plain = await this.deps.dataKeys.openText(m.body, messageAad(m.conversationId, m.id)) ??
      "";
    if (m.kind !== "poll") return plain;
    const poll = JSON.parse(plain) as PollContent;
    return [poll.question, ...poll.options.map((o) => o.text)].join("\n");
  }

  /** Adds a message as it is now to the batch, or its removal when it is gone or has no words. */
  async #add(batch: IndexBatch, m: MessageRecord | undefined, messageId: string): Promise<void> {
    this.#indexed.inc();
    const expired = m?.expiresAt !== undefined && m.expiresAt <= new Date().toISOString();
    if (!m || m.deletedAt || m.system || !m.senderId || expired) {
      batch.remove.push(messageId);
      return;
    }
    const text = await this.#text(m);
    const tokens = this.deps.tokens.ofText(text);
    if (tokens.length === 0) {
      batch.remove.push(messageId);
      return;
    }
    batch.index.push({
      message: {
        conversationId: m.conversationId,
        messageId: m.id,
        seq: m.seq,
        senderId: m.senderId,
        createdAt: m.createdAt,
        hasMedia: m.mediaIds.length > 0,
        hasLink: LINK.test(text),
      },
      tokens,
    });
  }
}
