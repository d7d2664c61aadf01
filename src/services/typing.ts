import type { Actor } from "../domain/actor.ts";
import type { ConversationsService } from "./conversations.ts";
import type { Notices } from "./notices.ts";

interface Typist {
  timer: ReturnType<typeof setTimeout>;
  lastSent: number;
}

/**
 * Typing indicators: ephemeral, never stored. A `start` is forwarded at most once per half TTL (repeats
 * in between only extend it); without a repeat for the TTL (6 s), a `stop` is sent on the typist's
 * behalf. Recipients are the other members; the typist's own sockets are not echoed.
 */
export class TypingService {
  #typists = new Map<string, Typist>();

  constructor(
    private readonly deps: {
      conversations: ConversationsService;
      notices: Notices;
      ttlMs: number;
      /** The users who block a typist get no typing from them. */
      blockers: (userId: string) => Promise<string[]>;
    },
  ) {}

  async typing(actor: Actor, conversationId: string, state: "start" | "stop"): Promise<void> {
    const key = `${actor.userId}\n${conversationId}`;
    const current = this.#typists.get(key);
    // Membership was checked when this typist started; a new start checks it again.
    if (!current) await this.deps.conversations.membership(actor, conversationId);
    if (state === "stop") {
      if (current) await this.#stop(key, actor.userId, conversationId);
      return;
    }
    const now = Date.now();
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(
      () => void this.#stop(key, actor.userId, conversationId),
      this.deps.ttlMs,
    );
    const due = !current || now - current.lastSent >= this.deps.ttlMs / 2;
    this.#typists.set(key, { timer, lastSent: due ? now : current!.lastSent });
    if (due) await this.#publish(actor.userId, conversationId, "start");
  }

  /** Stops every indicator of a user (their socket closed). */
  async stopAll(userId: string): Promise<void> {
    for (const key of [...this.#typists.keys()]) {
      const [user, conversationId] = key.split("\n");
      if (user === userId) await this.#stop(key, user, conversationId);
    }
  }

  /** Clears all timers (shutdown). */
  close(): void {
    for (const t of this.#typists.values()) clearTimeout(t.timer);
    this.#typists.clear();
  }

  async #stop(key: string, userId: string, conversationId: string): Promise<void> {
    const t = this.#typists.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    this.#typists.delete(key);
    await this.#publish(userId, conversationId, "stop");
  }

  async #publish(userId: string, conversationId: string, state: "start" | "stop"): Promise<void> {
    await this.deps.notices.notifyConversation(conversationId, {
      event: "typing",
      conversationId,
      data: state === "start" ? { userId, state, expiresInMs: this.deps.ttlMs } : { userId, state },
    }, { exclude: [userId, ...await this.deps.blockers(userId)] });
  }
}
