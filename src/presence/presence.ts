/** One open socket of a user on some instance. */
export interface PresenceSocket {
  userId: string;
  connectionId: string;
}

/** A user whose sockets all vanished without a clean close, and when they were last known alive. */
export interface ExpiredPresence {
  userId: string;
  lastSeenAt: string;
}

/**
 * Which users hold at least one open WebSocket, across all instances. An instance registers its
 * sockets and keeps them alive with heartbeats; the sockets of an instance that died expire after the
 * TTL, and {@link PresenceRegistry.expired} hands each such user to exactly one instance to mark
 * offline. Every adapter passes `tests/presence/presence_contract.ts`.
 */
export interface PresenceRegistry {
  readonly kind: "memory" | "redis";
  /** Registers an open socket; true when it is the user's first (they just came online). */
  connect(userId: string, connectionId: string): Promise<boolean>;
  /** Unregisters a socket; true when it was the user's last (they just went offline). */
  disconnect(userId: string, connectionId: string): Promise<boolean>;
  /**
   * Renews this instance's sockets so they do not expire, and returns those the registry no longer
   * had (it lost them: Redis restarted empty, or they expired while this instance was cut off), so
   * the instance can register the ones still open again.
   */
  heartbeat(entries: PresenceSocket[]): Promise<PresenceSocket[]>;
  /** Which of `userIds` are online now. */
  online(userIds: string[]): Promise<Set<string>>;
  /** The connection ids of every live socket of `userIds` (see {@link presenceConnectionId}). */
  connections(userIds: string[]): Promise<string[]>;
  /** Users who went offline because their sockets expired; each is reported once. */
  expired(): Promise<ExpiredPresence[]>;
  close(): Promise<void>;
}

/**
 * The id a socket is registered under: its session (device) and its own id, so that who is reachable
 * live can be told per device (a push goes only to devices without a socket).
 */
export function presenceConnectionId(sessionId: string, socketId: string): string {
  return `${sessionId}.${socketId}`;
}

/** The session of a {@link presenceConnectionId}. */
export function sessionOfConnection(connectionId: string): string {
  return connectionId.slice(0, connectionId.indexOf("."));
}

/** The socket of a {@link presenceConnectionId}. */
export function socketOfConnection(connectionId: string): string {
  return connectionId.slice(connectionId.indexOf(".") + 1);
}
