/**
 * A chat client for the chaos run that behaves as PROTOCOL.md asks a real one to, and records
 * everything the checker needs: it keeps the highest seq per conversation, reconnects (to the next
 * endpoint, with backoff and jitter) and resumes from those seqs, pages `/events` on `gap`, re-sends
 * an unacknowledged message with the same `clientMsgId` until it is acked, and gives up on a
 * connection that stops answering (a black hole or a paused instance never closes a socket).
 */

/** One acknowledged send. */
export interface AckRecord {
  conversationId: string;
  clientMsgId: string;
  messageId: string;
  seq: number;
  /** `performance.now()` when the ack arrived. */
  at: number;
}

/** What one connection delivered: per conversation, the seqs in arrival order. */
export interface ConnectionRecord {
  resumeFrom: Record<string, number>;
  events: Map<string, number[]>;
}

/** A send refused with a code that retrying cannot fix (must never happen in a chaos run). */
export interface Refusal {
  clientMsgId: string;
  code: string;
  detail: string;
}

const RETRYABLE = new Set(["unavailable", "rate_limited"]);
const ACK_TIMEOUT_MS = 5_000;
const QUIET_MS = 2_500;

interface Live {
  ws: WebSocket;
  record: ConnectionRecord;
  pending: Map<string, (frame: Record<string, any>) => void>;
  dead: boolean;
  lastFrameAt: number;
  died: PromiseWithResolvers<void>;
}

export class ChaosClient {
  readonly connections: ConnectionRecord[] = [];
  /** Seqs fetched with `/events` after a `gap` frame. */
  readonly paged = new Map<string, Set<number>>();
  /** The conversations' seqs when this client first connected: it owes everything after them. */
  readonly startSeq = new Map<string, number>();
  readonly lastSeq = new Map<string, number>();
  readonly acks: AckRecord[] = [];
  readonly refusals: Refusal[] = [];
  /** Sends abandoned at the deadline without an ack. */
  givenUp = 0;
  gapFrames = 0;
  #live: Live | null = null;
  #connected = Promise.withResolvers<Live>();
  #endpoint: number;
  #stopped = false;
  #nextId = 1;
  #running: Promise<void> | null = null;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly userId: string,
    readonly token: string,
    /** Base URLs (http) of the endpoints this client may use, tried in turn. */
    readonly endpoints: string[],
    first = 0,
  ) {
    this.#endpoint = first % endpoints.length;
  }

  /** Connects (the first `ready` is awaited) and keeps reconnecting until {@link stop}. */
  async start(): Promise<void> {
    this.#running = this.#loop();
    this.#watchdog = setInterval(() => this.#checkQuiet(), 500);
    await this.#connected.promise;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const base = this.endpoints[this.#endpoint];
      try {
        const live = await this.#open(base);
        failures = 0;
        await live.died.promise;
      } catch {
        failures++;
      }
      if (this.#stopped) return;
      this.#endpoint = (this.#endpoint + 1) % this.endpoints.length;
      // Backoff with full jitter, capped: 50 ms, 100 ms, … 1.6 s.
      const cap = Math.min(1_600, 50 * 2 ** Math.min(failures, 5));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }

  #open(base: string): Promise<Live> {
    const resumeFrom = Object.fromEntries(this.lastSeq);
    const record: ConnectionRecord = { resumeFrom, events: new Map() };
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/v1/ws");
    const live: Live = {
      ws,
      record,
      pending: new Map(),
      dead: false,
      lastFrameAt: performance.now(),
      died: Promise.withResolvers<void>(),
    };
    const ready = Promise.withResolvers<Live>();
    const timer = setTimeout(() => this.#kill(live), ACK_TIMEOUT_MS);
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: "auth",
        token: this.token,
        ...(this.lastSeq.size ? { resume: resumeFrom } : {}),
      }));
    };
    ws.onmessage = (e) => {
      if (live.dead) return;
      live.lastFrameAt = performance.now();
      const f = JSON.parse(e.data as string);
      if (f.type === "ready") {
        clearTimeout(timer);
        for (const c of f.conversations as Array<{ id: string; lastSeq: number }>) {
          if (!this.startSeq.has(c.id)) {
            this.startSeq.set(c.id, c.lastSeq);
            this.lastSeq.set(c.id, c.lastSeq);
          }
        }
        this.connections.push(record);
        this.#live = live;
        this.#connected.resolve(live);
        ready.resolve(live);
      } else if (f.type === "event" && typeof f.seq === "number") {
        const list = record.events.get(f.conversationId) ?? [];
        list.push(f.seq);
        record.events.set(f.conversationId, list);
        this.#saw(f.conversationId, f.seq);
      } else if (f.type === "gap") {
        this.gapFrames++;
        void this.#page(base, f.conversationId, resumeFrom[f.conversationId] ?? 0, f.toSeq);
      } else if (f.type === "ack") {
        live.pending.get(String(f.id))?.(f);
        live.pending.delete(String(f.id));
      }
    };
    ws.onclose = () => {
      clearTimeout(timer);
      this.#kill(live);
      ready.reject(new Error("closed before ready"));
    };
    ws.onerror = () => {};
    return ready.promise;
  }

  #saw(conversationId: string, seq: number): void {
    if (seq > (this.lastSeq.get(conversationId) ?? 0)) this.lastSeq.set(conversationId, seq);
  }

  /** After a `gap`: every event from `after` to at least `toSeq` through `/events`, until it works. */
  async #page(base: string, conversationId: string, after: number, toSeq: number): Promise<void> {
    const got = this.paged.get(conversationId) ?? new Set<number>();
    this.paged.set(conversationId, got);
    while (!this.#stopped && after < toSeq) {
      try {
        const res = await fetch(
          `${base}/v1/conversations/${conversationId}/events?after=${after}&limit=200`,
          {
            headers: { authorization: `Bearer ${this.token}` },
            signal: AbortSignal.timeout(5_000),
          },
        );
        if (res.status !== 200) throw new Error(`events: ${res.status} ${await res.text()}`);
        const body = await res.json();
        for (const e of body.events) got.add(e.seq), this.#saw(conversationId, e.seq);
        if (!body.hasMore) return;
        after = body.events.at(-1).seq;
      } catch {
        base = this.endpoints[(this.endpoints.indexOf(base) + 1) % this.endpoints.length];
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** A connection that has been silent too long is given up (and pinged before that). */
  #checkQuiet(): void {
    const live = this.#live;
    if (!live || live.dead) return;
    const quiet = performance.now() - live.lastFrameAt;
    if (quiet > QUIET_MS * 2) return this.#kill(live);
    if (quiet > QUIET_MS) {
      try {
        live.ws.send(JSON.stringify({ type: "ping", id: `p${this.#nextId++}` }));
      } catch {
        this.#kill(live);
      }
    }
  }

  #kill(live: Live): void {
    if (live.dead) return;
    live.dead = true;
    for (const answer of live.pending.values()) answer({ type: "ack", ok: false, closed: true });
    live.pending.clear();
    try {
      live.ws.close();
    } catch {
      // already closing
    }
    if (this.#live === live) {
      this.#live = null;
      this.#connected = Promise.withResolvers<Live>();
    }
    live.died.resolve();
  }

  /** Sends until acknowledged (same `clientMsgId` every time), or until `deadlineMs` has passed. */
  async send(
    conversationId: string,
    clientMsgId: string,
    text: string,
    deadlineMs = 120_000,
  ): Promise<void> {
    const until = performance.now() + deadlineMs;
    for (let attempt = 0; !this.#stopped; attempt++) {
      if (performance.now() > until) {
        this.givenUp++;
        return;
      }
      const live = this.#live ?? await this.#connected.promise;
      if (!live) return;
      if (live.dead) continue;
      const id = `s${this.#nextId++}`;
      const ack = await new Promise<Record<string, any>>((resolve) => {
        const timer = setTimeout(() => {
          live.pending.delete(id);
          resolve({ type: "ack", ok: false, timedOut: true });
        }, ACK_TIMEOUT_MS);
        live.pending.set(id, (f) => {
          clearTimeout(timer);
          resolve(f);
        });
        try {
          live.ws.send(
            JSON.stringify({ type: "message.send", id, conversationId, clientMsgId, text }),
          );
        } catch {
          live.pending.delete(id);
          clearTimeout(timer);
          resolve({ type: "ack", ok: false, closed: true });
        }
      });
      if (ack.ok) {
        this.acks.push({
          conversationId,
          clientMsgId,
          messageId: ack.message.id,
          seq: ack.message.seq,
          at: performance.now(),
        });
        return;
      }
      if (ack.timedOut) this.#kill(live);
      if (ack.error && !RETRYABLE.has(ack.error.code)) {
        this.refusals.push({ clientMsgId, code: ack.error.code, detail: ack.error.detail ?? "" });
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(1_000, 20 * 2 ** Math.min(attempt, 6))));
    }
  }

  /** Resolves once this client has seen `seq` (or beyond) in the conversation. */
  async reached(conversationId: string, seq: number, timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while ((this.lastSeq.get(conversationId) ?? 0) < seq) {
      if (performance.now() > until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchdog);
    if (this.#live) this.#kill(this.#live);
    this.#connected.resolve(null as never);
    await this.#running;
  }
}
