import type { ExpiredPresence, PresenceRegistry, PresenceSocket } from "./presence.ts";

/**
 * The in-process {@link PresenceRegistry}: exact for one instance. Sockets cannot outlive the
 * process, so nothing ever expires.
 */
export class MemoryPresence implements PresenceRegistry {
  readonly kind = "memory" as const;
  #users = new Map<string, Set<string>>();

  connect(userId: string, connectionId: string): Promise<boolean> {
    let set = this.#users.get(userId);
    const first = !set;
    if (!set) this.#users.set(userId, set = new Set());
    set.add(connectionId);
    return Promise.resolve(first);
  }

  disconnect(userId: string, connectionId: string): Promise<boolean> {
    const set = this.#users.get(userId);
    if (!set || !set.delete(connectionId)) return Promise.resolve(false);
    if (set.size > 0) return Promise.resolve(false);
    this.#users.delete(userId);
    return Promise.resolve(true);
  }

  heartbeat(entries: PresenceSocket[]): Promise<PresenceSocket[]> {
    return Promise.resolve(
      entries.filter((e) => !this.#users.get(e.userId)?.has(e.connectionId)),
    );
  }

  online(userIds: string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(userIds.filter((id) => this.#users.has(id))));
  }

  connections(userIds: string[]): Promise<string[]> {
    return Promise.resolve(userIds.flatMap((id) => [...this.#users.get(id) ?? []]));
  }

  expired(): Promise<ExpiredPresence[]> {
    return Promise.resolve([]);
  }

  close(): Promise<void> {
    this.#users.clear();
    return Promise.resolve();
  }
}
