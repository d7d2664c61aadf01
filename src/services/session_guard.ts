import { unauthorized } from "../domain/errors.ts";
import type { Session } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import { type Publisher, SYSTEM_CHANNEL } from "./publisher.ts";

const TOUCH_EVERY_MS = 60_000;

/**
 * Answers "is this session still live?" for every authenticated request without a store read each
 * time: a short-lived cache, invalidated at once on this instance and, through the broker, on the
 * others when a session is revoked.
 */
export class SessionGuard {
  #cache = new Map<string, { session: Session; until: number }>();
  #unsubscribe?: () => Promise<void>;

  constructor(
    private readonly store: Pick<Store, "accounts">,
    private readonly publisher: Publisher,
    private readonly ttlMs = 30_000,
  ) {}

  /** Listens for revocations made on other instances. */
  async start(): Promise<void> {
    this.#unsubscribe = await this.publisher.subscribe(SYSTEM_CHANNEL, (meta, body) => {
      if (meta.kind === "control" && meta.action === "sessions.revoked") {
        for (const id of JSON.parse(body).sessionIds as string[]) this.#cache.delete(id);
      }
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

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
