import type { Broker } from "../src/broker/broker.ts";
import type { Logger } from "../src/observability/logger.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { Envelope, EventLog } from "../src/services/events.ts";
import {
  conversationChannel,
  parseChannel,
  type Publisher,
  SYSTEM_CHANNEL,
  userChannel,
} from "../src/services/publisher.ts";
import { personalize } from "../src/services/render.ts";
import { BLOCKS_CHANGED } from "../src/services/blocks.ts";

/** What the hub needs from a socket. */
export interface LocalConnection {
  readonly userId: string;
  readonly sessionId: string;
  /** Sends a frame; `seq` is given for durable conversation events. */
  deliver(frame: string, conversationId?: string, seq?: number): void;
  close(code: number, reason: string): void;
}

interface ConversationState {
  id: string;
  /** Local users who are members and have at least one socket here. */
  users: Set<string>;
  /** The last seq delivered here; -1 until known (events wait in `pending`). */
  lastSeq: number;
  /** Resolves once `lastSeq` is known. */
  known: PromiseWithResolvers<void>;
  pending: Map<number, Envelope>;
  filling: boolean;
  unsubscribe: Promise<() => Promise<void>>;
}

interface UserState {
  connections: Set<LocalConnection>;
  conversations: Set<string>;
  unsubscribe: Promise<() => Promise<void>>;
  /** The users this user blocks: their messages reach this user with `senderBlocked: true`. */
  blocked: ReadonlySet<string>;
}

const PAGE = 200;
/**
 * How much longer than the log's own hole-settle time (`EventLog.holeSettleMs`) a missing seq may stay
 * missing before the hub treats it as a hole (a write that failed) and skips it.
 */
const HOLE_MARGIN_MS = 1000;

/** Whether a message event's message was sent by one of `userIds`. */
function sentByOneOf(
  event: { event?: string; data?: { senderId?: unknown } },
  userIds: ReadonlySet<string>,
): boolean {
  return !!event.event?.startsWith("message.") && typeof event.data?.senderId === "string" &&
    userIds.has(event.data.senderId);
}

/** Builds the `event` frame from a published body, without serialising it again. */
export function eventFrame(body: string): string {
  return body.length > 2 ? `{"type":"event",${body.slice(1)}` : `{"type":"event"}`;
}

/**
 * Local fan-out for one instance. It listens (through the broker) only to the conversations and users
 * its sockets need, so a message costs O(recipients). Per conversation, durable events are delivered in
 * seq order exactly once: duplicates are dropped, and a gap (a message the broker lost, or events from
 * several instances arriving out of order) is filled from the store, which always has them because
 * events are published only after commit. Membership changes take effect in the same order, so a
 * removed member receives the removal and nothing after it.
 */
export class Hub {
  #users = new Map<string, UserState>();
  #conversations = new Map<string, ConversationState>();
  #sessions = new Map<string, Set<LocalConnection>>();
  #offs: Array<() => void> = [];
  #systemOff?: Promise<() => Promise<void>>;
  readonly #delivered;
  readonly #filled;

  constructor(
    private readonly deps: {
      events: EventLog;
      publisher: Publisher;
      broker: Broker;
      logger: Logger;
      metrics: MetricsRegistry;
      /** The users `userId` blocks (read when they attach and when their block list changes). */
      blocked?: (userId: string) => Promise<Set<string>>;
    },
  ) {
    this.#delivered = deps.metrics.counter(
      "parley_ws_frames_delivered_total",
      "Event frames sent to sockets",
    );
    this.#filled = deps.metrics.counter(
      "parley_hub_gap_fills_total",
      "Times a conversation's missing events were read from the store",
    );
    deps.metrics.gauge("parley_hub_conversations", "Conversations this instance listens to")
      .collect(() => [[{}, this.#conversations.size]]);
  }

  /** Starts receiving: local publishes, system notices, and broker reconnects (which trigger a resync). */
  start(): void {
    this.#offs.push(
      this.deps.publisher.onLocal((channel, meta, body) => this.#route(channel, { meta, body })),
    );
    this.#offs.push(this.deps.broker.onStatus((up) => {
      if (up) void this.resync();
    }));
    this.#systemOff = this.deps.publisher.subscribe(
      SYSTEM_CHANNEL,
      (meta, body) => this.#route(SYSTEM_CHANNEL, { meta, body }),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.#offs) off();
    await (await this.#systemOff)?.();
  }

  /**
   * Registers an authenticated socket and starts listening to its user's conversations. Returns the
   * head of each: the seq after which this socket will receive every event live.
   */
  async attach(conn: LocalConnection): Promise<Array<{ id: string; lastSeq: number }>> {
    let user = this.#users.get(conn.userId);
    if (!user) {
      user = {
        connections: new Set(),
        conversations: new Set(),
        unsubscribe: this.deps.publisher.subscribe(
          userChannel(conn.userId),
          (meta, body) => this.#route(userChannel(conn.userId), { meta, body }),
        ),
        blocked: new Set(),
      };
      this.#users.set(conn.userId, user);
      await this.#loadBlocked(conn.userId);
    }
    user.connections.add(conn);
    let set = this.#sessions.get(conn.sessionId);
    if (!set) this.#sessions.set(conn.sessionId, set = new Set());
    set.add(conn);
    await user.unsubscribe;
    await this.#track(
      conn.userId,
      (await this.deps.events.heads(conn.userId)).map((h) => h.id),
    );
    const states = [...user.conversations].map((id) => this.#conversations.get(id))
      .filter((s): s is ConversationState => !!s);
    await Promise.all(states.map((s) => s.known.promise));
    return states.filter((s) => this.#conversations.get(s.id) === s).map((s) => ({
      id: s.id,
      lastSeq: s.lastSeq,
    }));
  }

  /**
   * Unregisters a socket; the last one of a user stops the listening it needed. Returns whether it
   * was the user's last socket here.
   */
  detach(conn: LocalConnection): boolean {
    const set = this.#sessions.get(conn.sessionId);
    set?.delete(conn);
    if (set?.size === 0) this.#sessions.delete(conn.sessionId);
    const user = this.#users.get(conn.userId);
    if (!user || !user.connections.delete(conn)) return false;
    if (user.connections.size > 0) return false;
    this.#users.delete(conn.userId);
    void user.unsubscribe.then((off) => off()).catch(() => {});
    for (const id of [...user.conversations]) this.#removeUser(id, conn.userId);
    return true;
  }

  /** The seq up to which `conversationId` was delivered here (for resume). */
  head(conversationId: string): number | undefined {
    const s = this.#conversations.get(conversationId);
    return s && s.lastSeq >= 0 ? s.lastSeq : undefined;
  }

  /** Number of users and sockets attached here. */
  get size(): { users: number; connections: number } {
    let connections = 0;
    for (const u of this.#users.values()) connections += u.connections.size;
    return { users: this.#users.size, connections };
  }

  /**
   * After the broker reconnects: catch every conversation up from the store and pick up memberships
   * announced while it was away.
   */
  async resync(): Promise<void> {
    for (const s of this.#conversations.values()) if (s.lastSeq >= 0) void this.#fill(s, true);
    for (const userId of this.#users.keys()) {
      const heads = await this.deps.events.heads(userId);
      await this.#track(userId, heads.map((h) => h.id));
    }
  }

  /** Makes sure `userId` receives the given conversations (subscribing and learning heads as needed). */
  async #track(userId: string, conversationIds: string[]): Promise<void> {
    const user = this.#users.get(userId);
    if (!user) return;
    const fresh: ConversationState[] = [];
    for (const id of conversationIds) {
      let s = this.#conversations.get(id);
      if (!s) {
        s = this.#newState(id);
        fresh.push(s);
      }
      s.users.add(userId);
      user.conversations.add(id);
    }
    if (fresh.length === 0) return;
    // Subscribe first, then read the heads: whatever is published after the read is delivered live,
    // whatever was committed before it is below the head the socket is told about.
    await Promise.all(fresh.map((s) => s.unsubscribe));
    const heads = new Map(
      (await this.deps.events.heads(userId)).map((h) => [h.id, h.lastSeq]),
    );
    for (const s of fresh) {
      if (s.lastSeq >= 0) continue;
      const head = heads.get(s.id);
      if (head === undefined) {
        // Left or deleted in the meantime.
        this.#removeUser(s.id, userId);
        continue;
      }
      s.lastSeq = head;
      s.known.resolve();
      for (const seq of [...s.pending.keys()]) if (seq <= head) s.pending.delete(seq);
      this.#drain(s);
    }
  }

  #newState(id: string, lastSeq = -1): ConversationState {
    const s: ConversationState = {
      id,
      users: new Set(),
      lastSeq,
      known: Promise.withResolvers<void>(),
      pending: new Map(),
      filling: false,
      unsubscribe: this.deps.publisher.subscribe(
        conversationChannel(id),
        (meta, body) => this.#route(conversationChannel(id), { meta, body }),
      ),
    };
    if (lastSeq >= 0) s.known.resolve();
    this.#conversations.set(id, s);
    return s;
  }

  #removeUser(conversationId: string, userId: string): void {
    this.#users.get(userId)?.conversations.delete(conversationId);
    const s = this.#conversations.get(conversationId);
    if (!s) return;
    s.users.delete(userId);
    if (s.users.size === 0) {
      this.#conversations.delete(conversationId);
      s.known.resolve();

      void s.unsubscribe.then((off) => off()).catch(() => {});
    }
  }

  #route(channel: string, env: Envelope): void {
    try {
      const target = parseChannel(channel);
      if (target?.kind === "conversation") this.#onConversation(target.id, env);
      else if (target?.kind === "user") this.#onUser(target.id, env);
      else if (target?.kind === "system") this.#onSystem(env);
    } catch (err) {
      this.deps.logger.error("hub routing failed", {
        "error.message": String(err),
        "broker.channel": channel,
      });
    }
  }

  #onSystem(env: Envelope): void {
    if (env.meta.kind !== "control" || env.meta.action !== "sessions.revoked") return;
    for (const id of JSON.parse(env.body).sessionIds as string[]) {
      for (const conn of [...this.#sessions.get(id) ?? []]) conn.close(4001, "session revoked");
    }
  }

  #onUser(userId: string, env: Envelope): void {
    const user = this.#users.get(userId);
    if (!user) return;
    if (env.meta.kind === "control") {
      if (env.meta.action === "conversation.joined" && env.meta.conversationId) {
        this.#joined(userId, env.meta.conversationId, env.meta.seq ?? 1);
      }
      if (env.meta.action === BLOCKS_CHANGED) void this.#loadBlocked(userId);
      return;
    }
    const frame = eventFrame(env.body);
    for (const conn of user.connections) conn.deliver(frame);
    this.#delivered.inc({}, user.connections.size);
  }

  /** (Re)reads who a local user blocks. */
  async #loadBlocked(userId: string): Promise<void> {
    if (!this.deps.blocked) return;
    try {
      const blocked = await this.deps.blocked(userId);
      const user = this.#users.get(userId);
      if (user) user.blocked = blocked;
    } catch (err) {
      this.deps.logger.warn("block list read failed", { "error.message": String(err) });
    }
  }

  /** A local user joined a conversation: start delivering it from the event that added them. */
  #joined(userId: string, conversationId: string, seq: number): void {
    const user = this.#users.get(userId)!;
    let s = this.#conversations.get(conversationId);
    if (s) {
      // Already followed here: the member.added event adds them in order.
      return;
    }
    s = this.#newState(conversationId, seq - 1);
    s.users.add(userId);
    user.conversations.add(conversationId);
    const state = s;
    void state.unsubscribe.then(() => this.#fill(state, true));
  }

  #onConversation(conversationId: string, env: Envelope): void {
    const s = this.#conversations.get(conversationId);
    if (!s) return;
    const seq = env.meta.seq;
    if (seq === undefined) {
      // Ephemeral (typing, receipts): now, to whoever is here, in no particular order.
      this.#deliver(s, env);
      return;
    }
    if (s.lastSeq >= 0 && seq <= s.lastSeq) return;
    s.pending.set(seq, env);
    if (s.lastSeq >= 0) this.#drain(s);
  }

  #drain(s: ConversationState): void {
    while (s.pending.has(s.lastSeq + 1)) {
      const env = s.pending.get(s.lastSeq + 1)!;
      s.pending.delete(s.lastSeq + 1);
      this.#apply(s, env);
    }
    if (s.pending.size > 0 && !s.filling) void this.#fill(s, false);
  }

  /** Delivers one durable event in order and applies its membership change. */
  #apply(s: ConversationState, env: Envelope): void {
    s.lastSeq = env.meta.seq!;
    const hint = env.meta.membership;
    for (const userId of hint?.added ?? []) {
      const user = this.#users.get(userId);
      if (user) {
        s.users.add(userId);
        user.conversations.add(s.id);
      }
    }
    this.#deliver(s, env);
    for (const userId of hint?.removed ?? []) this.#removeUser(s.id, userId);
    if (hint?.deleted) { for (const userId of [...s.users]) this.#removeUser(s.id, userId); }
  }

  #deliver(s: ConversationState, env: Envelope): void {
    const exclude = env.meta.exclude;
    // One frame for everyone, unless the body carries per-viewer parts (reactions' `me`).
    const shared = env.meta.personal ? undefined : eventFrame(env.body);
    let event = shared === undefined ? JSON.parse(env.body) : undefined;
    let count = 0;
    for (const userId of s.users) {
      const user = this.#users.get(userId);
      const connections = user?.connections;
      if (exclude?.includes(userId) || !connections?.size) continue;
      let frame = shared;
      if (user!.blocked.size > 0) {
        event ??= JSON.parse(env.body);
        if (sentByOneOf(event, user!.blocked)) {
          const viewer = { id: userId, blocked: user!.blocked };
          frame = JSON.stringify({ type: "event", ...personalize(event, viewer) });
        }
      }
      frame ??= JSON.stringify({ type: "event", ...personalize(event, userId) });
      for (const conn of connections) conn.deliver(frame, s.id, env.meta.seq);
      count += connections.size;
    }
    this.#delivered.inc({}, count);
  }

  /**
   * Reads what is missing after `lastSeq` from the log and delivers it in order. A seq that stays
   * missing past the log's hole-settle time (plus {@link HOLE_MARGIN_MS}) is a write that never
   * committed, and is skipped.
   */
  async #fill(s: ConversationState, force: boolean): Promise<void> {
    if (s.filling) return;
    s.filling = true;
    this.#filled.inc();
    const started = Date.now();
    const holeAfterMs = this.deps.events.holeSettleMs + HOLE_MARGIN_MS;
    try {
      while (this.#conversations.get(s.id) === s && (force || s.pending.size > 0)) {
        force = false;
        const page = await this.deps.events.since(s.id, { after: s.lastSeq, limit: PAGE });
        for (const env of page.envelopes) {
          const seq = env.meta.seq!;
          if (seq <= s.lastSeq) continue;
          s.pending.delete(seq);
          this.#apply(s, env);
          if (this.#conversations.get(s.id) !== s) return;
        }
        for (const seq of [...s.pending.keys()]) if (seq <= s.lastSeq) s.pending.delete(seq);
        while (s.pending.has(s.lastSeq + 1)) {
          const env = s.pending.get(s.lastSeq + 1)!;
          s.pending.delete(s.lastSeq + 1);
          this.#apply(s, env);
        }
        if (page.hasMore) {
          force = true;
          continue;
        }
        if (s.pending.size === 0) break;
        if (Date.now() - started > holeAfterMs) {
          // Nothing in the store fills the gap: skip the hole.
          s.lastSeq = Math.min(...s.pending.keys()) - 1;
          continue;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    } catch (err) {
      this.deps.logger.error("gap fill failed", {
        "error.message": String(err),
        "parley.conversation.id": s.id,
      });
    } finally {
      s.filling = false;
    }
  }
}
