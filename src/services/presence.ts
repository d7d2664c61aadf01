import { sessionOfConnection } from "../presence/presence.ts";
import type { LastSeenPrivacy, User, VisiblePresence } from "../domain/types.ts";
import { nowIso } from "../ids.ts";
import type { Logger } from "../observability/logger.ts";
import type { PresenceRegistry, PresenceSocket } from "../presence/presence.ts";
import type { Store } from "../store/store.ts";
import type { Notices } from "./notices.ts";

/** How one user appears to another. */
export interface VisibleStatus {
  presence: VisiblePresence;
  lastSeenAt?: string;
}

/** Whether `viewer` may see the `lastSeenAt` of a user with `privacy`. */
export function maySeeLastSeen(
  privacy: LastSeenPrivacy,
  isSelf: boolean,
  isContact: boolean,
): boolean {
  return isSelf || privacy === "everyone" || (privacy === "contacts" && isContact);
}

/**
 * Presence: a user is online while any of their sessions holds an open socket (on any instance);
 * `lastSeenAt` is stored when the last one closes. Changes go as `presence` events only to users who
 * share a conversation with the user, and respect what the user set (`invisible` shows as offline) and
 * their last-seen privacy.
 */
export class PresenceService {
  #owedCloses = new Map<string, PresenceSocket & { at: string }>();
  #healthyBeats = 0;
  #lastReadFailure = 0;

  constructor(
    private readonly deps: {
      store: Pick<Store, "accounts" | "conversations" | "moderation">;
      registry: PresenceRegistry;
      notices: Notices;
      logger: Logger;
    },
  ) {}

  /** How `user` appears to `viewerId` now. */
  async visibleTo(viewerId: string, user: User): Promise<VisibleStatus> {
    const self = viewerId === user.id;
    const online = await this.#isOnline(user.id);
    const presence: VisiblePresence = !online || user.presence === "invisible"
      ? "offline"
      : user.presence;
    const contact = !self && user.privacy.lastSeen === "contacts"
      ? await this.deps.store.conversations.sharesConversation(viewerId, user.id)
      : false;
    const show = user.lastSeenAt && maySeeLastSeen(user.privacy.lastSeen, self, contact);
    return show ? { presence, lastSeenAt: user.lastSeenAt! } : { presence };
  }

  /** Whether each of `userIds` is online (for member lists). */
  online(userIds: string[]): Promise<Set<string>> {
    return this.deps.registry.online(userIds);
  }

  /** The sessions (devices) of `userIds` that hold an open socket now, on any instance. */
  async onlineSessions(userIds: string[]): Promise<Set<string>> {
    return new Set((await this.deps.registry.connections(userIds)).map(sessionOfConnection));
  }

  /** A socket of `userId` opened; announces them when it is their first. */
  async socketOpened(userId: string, connectionId: string): Promise<void> {
    if (await this.deps.registry.connect(userId, connectionId)) {
      const user = await this.deps.store.accounts.getUser(userId);
      if (user) await this.announce(user, true);
    }
  }

  /**
   * A socket of `userId` closed; when it was their last, stores `lastSeenAt` and announces it. When
   * the registry cannot be reached, the close is owed and settled after it is back (see
   * {@link heartbeat}); the error is still thrown for the caller to log.
   */
  async socketClosed(userId: string, connectionId: string): Promise<void> {
    const at = nowIso();
    let last: boolean;
    try {
      last = await this.deps.registry.disconnect(userId, connectionId);
    } catch (err) {
      this.#owedCloses.set(connectionId, { userId, connectionId, at });
      throw err;
    }
    if (last) await this.wentOffline(userId, at);
  }

  /** Records that `userId` went offline at `at` and tells their contacts. */
  async wentOffline(userId: string, at: string): Promise<void> {
    const before = await this.deps.store.accounts.getUser(userId);
    if (!before || before.deletedAt) return;
    // An invisible user's last-seen time does not move: it would reveal activity.
    if (before.presence === "invisible") return await this.announce(before, false);
    const updated = await this.deps.store.accounts.updateUser(userId, { lastSeenAt: at });
    if (updated.status === "updated") await this.announce(updated.user, false);
  }

  /**
   * Renews this instance's sockets in the shared registry, and repairs what an outage of the
   * registry left behind: sockets it lost (Redis restarted empty) that are still open (`isOpen`,
   * checked right before each one is registered again) come back, announced online if that makes
   * their user online; and closes that could not be recorded during the outage are settled once the
   * registry has answered two heartbeats in a row (so every instance had a beat to register its live
   * sockets again): a user left with no socket anywhere goes offline with `lastSeenAt` set to when
   * their last socket closed.
   */
  async heartbeat(
    entries: PresenceSocket[],
    isOpen: (connectionId: string) => boolean,
  ): Promise<void> {
    let lost: PresenceSocket[];
    try {
      lost = await this.deps.registry.heartbeat(entries);
    } catch (err) {
      this.#healthyBeats = 0;
      throw err;
    }
    this.#healthyBeats++;
    for (const s of lost) {
      if (isOpen(s.connectionId)) await this.socketOpened(s.userId, s.connectionId);
    }
    if (this.#healthyBeats >= 2) await this.#settleOwedCloses();
  }

  async #settleOwedCloses(): Promise<void> {
    for (const owed of [...this.#owedCloses.values()]) {
      const last = await this.deps.registry.disconnect(owed.userId, owed.connectionId);
      const gone = last || !(await this.deps.registry.online([owed.userId])).has(owed.userId);
      this.#owedCloses.delete(owed.connectionId);
      if (gone) await this.wentOffline(owed.userId, owed.at);
    }
  }

  /** Marks offline the users whose sockets expired because their instance vanished. */

  async sweepExpired(): Promise<void> {
    for (const { userId, lastSeenAt } of await this.deps.registry.expired()) {
      await this.wentOffline(userId, lastSeenAt);
    }
  }

  /** The user changed their presence or privacy: tell their contacts how they look now. */
  async changed(user: User): Promise<void> {
    await this.announce(user, await this.#isOnline(user.id));
  }

  /**
   * Whether one user is online; while the registry cannot be reached nobody can tell, and profiles
   * show the user offline (with their stored `lastSeenAt`) rather than fail.
   */
  async #isOnline(userId: string): Promise<boolean> {
    try {
      return (await this.deps.registry.online([userId])).has(userId);
    } catch (err) {
      if (Date.now() - this.#lastReadFailure > 10_000) {
        this.#lastReadFailure = Date.now();
        this.deps.logger.warn("presence registry unavailable; users show offline", {
          "error.message": String(err),
        });
      }
      return false;
    }
  }

  /** Publishes `user`'s visible presence to each contact (and the user's own other sessions). */
  async announce(user: User, online: boolean): Promise<void> {
    const presence: VisiblePresence = online && user.presence !== "invisible"
      ? user.presence
      : "offline";
    const data: Record<string, unknown> = { userId: user.id, presence };
    // Contacts are exactly who "contacts" privacy admits, so one body serves every recipient.
    if (user.lastSeenAt && user.privacy.lastSeen !== "nobody") data.lastSeenAt = user.lastSeenAt;
    const body = { event: "presence", data };
    const contacts = await this.deps.store.conversations.contactIds(user.id);
    // Neither the users they block nor those who block them hear of their presence.
    const { blocking, blockedBy } = await this.deps.store.moderation.blocksBetween(
      user.id,
      contacts,
    );
    const recipients = contacts.filter((id) => !blocking.has(id) && !blockedBy.has(id));
    await Promise.all(
      recipients.map((id) => this.deps.notices.notifyUser(id, body)),
    );
  }
}
