import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import type { EventRecord, MessageRecord } from "../domain/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { IndexBatch, IndexedMessage, Store } from "../store/store.ts";
import type { MessageView, PollContent } from "./render.ts";
import type { SearchTokens } from "./search_tokens.ts";

/** Events per indexing step: one write each, short enough not to hold message commits back. */
const PAGE = 100;
const BUSY_PAGE = 10;
/** Above this many local commits a second, indexing yields (see `share`). */
const BUSY_COMMITS_PER_SECOND = 200;
const SWEEP_MS = 1000;
/** A commit is indexed this long after it, so a busy conversation's messages come in one batch. */
const GATHER_MS = 100;
const LINK = /\bhttps?:\/\/\S/i;

/** An indexing step before tokenising: texts, not tokens yet. */
interface Pending {
  index: Array<{ message: IndexedMessage; text: string }>;
  remove: string[];
  /** How far each conversation of the step is indexed once it is written. */
  progress: Map<string, number>;
}

/** A conversation the index follows as this instance commits to it (see `committed`). */
interface FastState {
  /** The seq the next event must have for the index to stay gap-free. */
  next: number;
}

function emptyBatch(): Pending {
  return { index: [], remove: [], progress: new Map() };
}

/** What search looks in: a message's text, or a poll's question and options. */
export function searchableText(view: Pick<MessageView, "text" | "poll">): string {
  return view.text ?? (view.poll ? pollText(view.poll) : "");
}

/** What search looks in of a poll: its question and options. */
export function pollText(poll: Pick<PollContent, "question" | "options">): string {
  return [poll.question, ...poll.options.map((o) => o.text)].join("\n");
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
  #fast = new Map<string, FastState>();
  /** What the fast path gathered from every conversation for the next write. */
  #gathered = emptyBatch();
  #gatherTimer: ReturnType<typeof setTimeout> | undefined;
  /** The fast path's writes, one after another, so they land in commit order. */
  #writing: Promise<void> = Promise.resolve();
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
    // What was gathered but not written is found again from the stored progress on the next start.
    clearTimeout(this.#gatherTimer);
    await Promise.allSettled([...this.#running.values(), this.#writing]);
    this.deps.tokens.close();
  }

  /**
   * An event this instance committed, with its message as published (decrypted). While the index
   * holds everything of the conversation up to the seq before it, the event is gathered with every
   * other conversation's of the next 100 ms and written with them in one go — nothing is read or
   * decrypted again. Any other case (the first event seen, a seq another instance took, a failed
   * write) goes the slow way: read the events after the stored progress.
   */
  committed(record: EventRecord, view?: MessageView): void {
    if (this.#closed) return;
    this.#count();
    const c = record.conversationId;
    const st = this.#fast.get(c);
    if (!st || this.#running.has(c) || record.seq !== st.next) {
      this.#fast.delete(c);
      this.touched(c);
      return;
    }
    try {
      if (record.messageId && view) this.#addView(this.#gathered, record, view);
    } catch (err) {
      // Never move past an event not taken in: go the slow way from the stored progress.
      this.deps.logger.warn("search indexing failed", { "error.message": String(err) });
      this.#fast.delete(c);
      this.touched(c);
      return;
    }
    st.next = record.seq + 1;
    this.#gathered.progress.set(c, record.seq);
    this.#gatherTimer ??= setTimeout(() => this.#flush(), GATHER_MS);
  }

  #flush(): void {
    this.#gatherTimer = undefined;
    const batch = this.#gathered;
    this.#gathered = emptyBatch();
    this.#writing = this.#writing.then(() => this.#write(batch)).catch((err) => {
      this.deps.logger.warn("search indexing failed", { "error.message": String(err) });
      for (const c of batch.progress.keys()) {
        this.#fast.delete(c);
        this.touched(c);
      }
    });
  }

  /** Indexes the conversation from its stored progress (the slow way), soon. */
  touched(conversationId: string): void {
    if (this.#closed) return;
    // What the fast path gathered of it is left to the slow way (which must not be overtaken by an
    // older version of a message written after it).
    if (this.#gathered.progress.delete(conversationId)) {
      this.#gathered.index = this.#gathered.index.filter((e) =>
        e.message.conversationId !== conversationId
      );
    }
    if (this.#running.has(conversationId)) {
      this.#again.add(conversationId);
      return;
    }
    let reached: number | undefined;
    const run: Promise<void> = new Promise((r) => setTimeout(r, GATHER_MS))
      // A fast-path write already on its way lands first.
      .then(() => this.#writing)
      .then(() => this.#indexFrom(conversationId, this.#heads.get(conversationId)))
      .then(
        (r) => void (reached = r.after),
        (err) =>
          this.deps.logger.warn("search indexing failed", {
            "parley.conversation.id": conversationId,
            "error.message": String(err),
          }),
      )
      .finally(() => {
        this.#running.delete(conversationId);
        if (this.#again.delete(conversationId)) this.touched(conversationId);
        else if (reached !== undefined && !this.#closed) {
          // Caught up: what this instance commits next is indexed as it happens.
          this.#fast.set(conversationId, { next: reached + 1 });
        }
      });
    this.#running.set(conversationId, run);
  }

  #count(): void {
    const second = Math.floor(performance.now() / 1000);
    if (second !== this.#commits.second) {
      this.#commits = {
        second,
        now: 0,
        before: second === this.#commits.second + 1 ? this.#commits.now : 0,
      };
    }
    this.#commits.now++;
  }

  /** A published event's effect on the index: a new or edited message, or one gone. */
  #addView(batch: Pending, record: EventRecord, view: MessageView): void {
    if (view.deletedAt || record.event === "message.deleted") {
      batch.remove.push(view.id);
      return;
    }
    if (record.event !== "message.created" && record.event !== "message.updated") return;
    this.#indexed.inc();
    if (view.system || !view.senderId) {
      batch.remove.push(view.id);
      return;
    }
    const text = searchableText(view);
    batch.index.push({
      message: {
        conversationId: view.conversationId,
        messageId: view.id,
        seq: view.seq,
        senderId: view.senderId,
        createdAt: view.createdAt,
        hasMedia: view.media.length > 0,
        hasLink: LINK.test(text),
      },
      text,
    });
  }

  /** Tokenises a step (in the worker) and writes it in one go; a text without words is removed. */
  async #write(p: Pending): Promise<void> {
    const tokens = await this.deps.tokens.ofTexts(p.index.map((e) => e.text));
    const batch: IndexBatch = {
      index: [],
      remove: [...p.remove],
      keyVersion: this.deps.tokens.keyVersion,
      progress: [...p.progress].map(([conversationId, seq]) => ({ conversationId, seq })),
    };
    p.index.forEach((e, i) => {
      if (tokens[i].length === 0) batch.remove.push(e.message.messageId);
      else batch.index.push({ message: e.message, tokens: tokens[i] });
    });
    await this.deps.store.search.applyIndex(batch);
  }

  /** Indexes everything behind, then re-indexes messages under an older key; for the task. */
  async catchUp(): Promise<number> {
    let n = 0;
    for (let idle = 0; idle < 3;) {
      let moved = false;
      const behind = await this.deps.store.search.behind(100);
      for (const b of behind) {
        const r = await this.#indexFrom(b.conversationId, b.lastSeq);
        n += r.n;
        if (r.after > b.indexedSeq) moved = true;
      }
      const stale = await this.deps.store.search.staleMessages(
        this.deps.tokens.keyVersion,
        PAGE,
      );
      n += await this.#reindexStale(stale);
      if (behind.length === 0 && stale.length === 0) return n;
      if (!moved && stale.length === 0) {
        // Only conversations whose head events are still settling (MongoDB): wait, a few times.
        idle++;
        await new Promise((r) => setTimeout(r, this.deps.store.log.holeSettleMs + 100));
      } else idle = 0;
    }
    return n;
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    try {
      // Conversations the fast path follows may be behind by what it holds: ask past them.
      const limit = Math.min(100 + this.#fast.size, 5000);
      for (const b of await this.deps.store.search.behind(limit)) {
        // Behind only by what the fast path has already seen (gathered or being written): not
        // behind. Sending it the slow way would read and decrypt it all again.
        if ((this.#fast.get(b.conversationId)?.next ?? 0) > b.lastSeq) continue;
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
    const batch = emptyBatch();
    for (const s of stale) {
      const page = await this.deps.store.log.listEvents(s.conversationId, {
        after: s.seq - 1,
        limit: 1,
      });
      const m = page.messages.get(s.messageId);
      await this.#add(batch, m, s.messageId);
    }
    if (stale.length) await this.#write(batch);
    return stale.length;
  }

  /**
   * Indexes a conversation's events after its progress: how many messages it touched and the seq it
   * reached. Each page of events is one write. When its head is known and no event is left between
   * progress and head (retention removed them, or a write that never committed left a hole), the
   * progress moves to the head — at once with transactions, after the log's hole-settle time
   * without.
   */
  async #indexFrom(
    conversationId: string,
    head: number | undefined,
  ): Promise<{ n: number; after: number }> {
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
        if (head !== undefined && head > after && await this.#skipTo(conversationId, head)) {
          return { n, after: head };
        }
        return { n, after };
      }
      this.#emptySince.delete(conversationId);
      const batch = emptyBatch();
      const seen = new Set<string>();
      for (const e of page.events) {
        if (!e.messageId || seen.has(e.messageId)) continue;
        seen.add(e.messageId);
        await this.#add(batch, page.messages.get(e.messageId), e.messageId);
        n++;
      }
      after = page.events.at(-1)!.seq;
      batch.progress.set(conversationId, after);
      await this.#write(batch);
      this.#spent(performance.now() - started);
      if (!page.hasMore) return { n, after };
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

  /** Moves the progress to the head when nothing is left below it; whether it did. */
  async #skipTo(conversationId: string, head: number): Promise<boolean> {
    const settle = this.deps.store.log.holeSettleMs;
    const since = this.#emptySince.get(conversationId) ?? performance.now();
    this.#emptySince.set(conversationId, since);
    if (settle > 0 && performance.now() - since < settle * 2) return false;
    this.#emptySince.delete(conversationId);
    this.#heads.delete(conversationId);
    await this.deps.store.search.setProgress(conversationId, head);
    return true;
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

  /** Adds a message as it is now to the step, or its removal when it is gone. */
  async #add(batch: Pending, m: MessageRecord | undefined, messageId: string): Promise<void> {
    this.#indexed.inc();
    const expired = m?.expiresAt !== undefined && m.expiresAt <= new Date().toISOString();
    if (!m || m.deletedAt || m.system || !m.senderId || expired) {
      batch.remove.push(messageId);
      return;
    }
    const text = await this.#text(m);
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
      text,
    });
  }
}
