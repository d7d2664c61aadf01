import { unauthorized } from "../domain/errors.ts";
import type { Session } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import { type Publisher, SYSTEM_CHANNEL } from "./publisher.ts";

const TOUCH_EVERY_MS = 60_000;
/** How often each instance reads the store's record of revoked sessions. */
export const REVOCATION_POLL_MS = 2_000;
/** How far back each poll looks (covers clock skew and a slow poll). */
const POLL_LOOKBACK_MS = 15_000;
/** How long revocation records are kept. */
const REVOCATION_KEEP_MS = 86_400_000;

/**
 * Answers "is this session still live?" for every authenticated request without a store read each
 * time: a short-lived cache, invalidated at once on this instance and, through the broker, on the
 * others when a session is revoked. Pub/sub is only the fast path: every
 * {@link REVOCATION_POLL_MS} each instance also reads the store's record of recently revoked
 * sessions, drops them from its cache and closes their sockets here, so a revocation takes effect
 * everywhere within a few seconds even while Redis is down or lost the message.
 */
export class SessionGuard {
  #cache = new Map<string, { session: Session; until: number }>();
  #unsubscribe?: () => Promise<void>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  #lastPurge = 0;

  constructor(
    private readonly store: Pick<Store, "accounts">,
    private readonly publisher: Publisher,
    private readonly ttlMs = 30_000,
    private readonly pollMs = REVOCATION_POLL_MS,
  ) {}

  /** Listens for revocations made on other instances, and starts reading the store's record. */
  async start(): Promise<void> {
    this.#unsubscribe = await this.publisher.subscribe(SYSTEM_CHANNEL, (meta, body) => {
      if (meta.kind === "control" && meta.action === "sessions.revoked") {
        for (const id of JSON.parse(body).sessionIds as string[]) this.#cache.delete(id);
      }
    });
    this.#timer = setInterval(() => void this.#poll(), this.pollMs);
    Deno.unrefTimer(this.#timer);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#unsubscribe?.();
  }

  /** One read of recent revocations: forgotten here, and their sockets here closed. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const now = Date.now();
      const since = new Date(now - POLL_LOOKBACK_MS).toISOString();
      const ids = await this.store.accounts.revokedSessionsSince(since);
      const fresh = ids.filter((id) => !this.#handled.has(id));
      for (const id of fresh) {
        this.#handled.set(id, now);
        this.#cache.delete(id);
      }
      for (const [id, at] of this.#handled) {
        if (now - at > 2 * POLL_LOOKBACK_MS) this.#handled.delete(id);
      }
      // To this instance's hub only (it closes their sockets here): every instance polls.
      if (fresh.length) {
        this.publisher.deliverLocally(
          SYSTEM_CHANNEL,
          { kind: "control", action: "sessions.revoked" },
          { sessionIds: fresh },
        );
      }
      if (now - this.#lastPurge > 3_600_000) {
        this.#lastPurge = now;
        await this.store.accounts.purgeRevocations(
          new Date(now - REVOCATION_KEEP_MS).toISOString(),
        );
      }
    } catch {
      // The store is unreachable: the next poll tries again (requests fail on their own meanwhile).
    } finally {
      this.#polling = false;
    }
  }

  /** Revocations a poll already acted on, with when (forgotten once out of the lookback). */
  readonly #handled = new Map<string, number>();

  /** The live session `sessionId` of `userId`; throws 401 when revoked, expired or unknown. */
  async check(sessionId: string, userId: string): Promise<Session> {
    const now = Date.now();
    const hit = this.#cache.get(sessionId);
    let session = hit && hit.until > now ? hit.session : undefined;
    if (!session) {
      const fresh = await this.store.accounts.getSession(sessionId);
      if (!fresh) throw unauthorized("Session not found");
      session = fresh;
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(sessionId, { session, until: now + this.ttlMs });
    }
    if (session.userId !== userId || session.revokedAt || Date.parse(session.expiresAt) <= now) {
      throw unauthorized("Session is no longer valid");
    }
    if (now - Date.parse(session.lastSeenAt) > TOUCH_EVERY_MS) {
      const at = new Date(now).toISOString();
      session.lastSeenAt = at;
      await this.store.accounts.touchSession(sessionId, at);
    }
    return session;
  }

  /** Forgets sessions here and tells every other instance to forget them too. */
  async invalidate(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    for (const id of sessionIds) this.#cache.delete(id);
    await this.publisher.publish(SYSTEM_CHANNEL, { kind: "control", action: "sessions.revoked" }, {
      sessionIds,
    });
  }
}
