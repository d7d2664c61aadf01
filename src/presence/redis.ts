import type { RedisClient } from "../redis/client.ts";
import { RedisScript } from "../redis/script.ts";
import type { ExpiredPresence, PresenceRegistry, PresenceSocket } from "./presence.ts";

// Per user: a sorted set of socket ids scored by expiry (ms). Globally: "user|socket" by expiry, so
// the sockets of a vanished instance can be found and their users marked offline exactly once.
const CONNECT = new RedisScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4] .. '|' .. ARGV[1])
if before == 0 then return 1 end
return 0
`);

const DISCONNECT = new RedisScript(`
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3] .. '|' .. ARGV[1])
if removed == 0 then return 0 end
if redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf') == 0 then return 1 end
return 0
`);

// Renews only sockets still registered (a socket closed meanwhile must not come back); returns the
// 0-based positions of those that were gone.
const HEARTBEAT = new RedisScript(`
local lost = {}
for i = 3, #ARGV - 1, 2 do
  local ukey = ARGV[2] .. ARGV[i]
  if redis.call('ZADD', ukey, 'XX', 'CH', ARGV[1], ARGV[i + 1]) == 0
    and not redis.call('ZSCORE', ukey, ARGV[i + 1]) then
    table.insert(lost, (i - 3) / 2)
  else
    redis.call('PEXPIRE', ukey, ARGV[#ARGV])
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i] .. '|' .. ARGV[i + 1])
  end
end
return lost
`);

const ONLINE = new RedisScript(`
local out = {}
for i = 1, #KEYS do out[i] = redis.call('ZCOUNT', KEYS[i], ARGV[1], '+inf') end
return out
`);

const CONNECTIONS = new RedisScript(`
local out = {}
for i = 1, #KEYS do
  for _, conn in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[1], '+inf')) do
    table.insert(out, conn)
  end
end
return out
`);

const EXPIRED = new RedisScript(`
local now = ARGV[1]
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, ARGV[3])
local out = {}
for i = 1, #items, 2 do
  local member = items[i]
  if redis.call('ZREM', KEYS[1], member) == 1 then
    local sep = string.find(member, '|', 1, true)
    local user = string.sub(member, 1, sep - 1)
    local ukey = ARGV[2] .. user
    local stale = redis.call('ZRANGEBYSCORE', ukey, '-inf', now)
    for _, conn in ipairs(stale) do redis.call('ZREM', KEYS[1], user .. '|' .. conn) end
    local had = redis.call('ZREMRANGEBYSCORE', ukey, '-inf', now)
    if had > 0 and redis.call('ZCARD', ukey) == 0 then
      table.insert(out, user)
      table.insert(out, tostring(tonumber(items[i + 1]) - tonumber(ARGV[4])))
    end
  end
end
return out
`);

const CHUNK = 500;

/**
 * The Redis {@link PresenceRegistry}, shared by all instances: sockets registered with an expiry that
 * each instance renews by heartbeat; sockets of an instance that died expire after the TTL and their
 * users are handed to exactly one instance to mark offline. Uses keys computed inside scripts, so it
 * needs a single Redis (or a primary), not Redis Cluster.
 */
export class RedisPresence implements PresenceRegistry {
  readonly kind = "redis" as const;
  readonly #userPrefix: string;
  readonly #all: string;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.#userPrefix = `${prefix}presence:u:`;
    this.#all = `${prefix}presence:sockets`;
  }

  async connect(userId: string, connectionId: string): Promise<boolean> {
    const now = Date.now();
    const first = await CONNECT.run<number>(this.client, [this.#userPrefix + userId, this.#all], [
      connectionId,
      now + this.ttlMs,
      now,
      userId,
      this.ttlMs * 2,
    ]);
    return first === 1;
  }

  async disconnect(userId: string, connectionId: string): Promise<boolean> {
    const last = await DISCONNECT.run<number>(this.client, [this.#userPrefix + userId, this.#all], [
      connectionId,
      Date.now(),
      userId,
    ]);
    return last === 1;
  }

  async heartbeat(entries: PresenceSocket[]): Promise<PresenceSocket[]> {
    const expiry = Date.now() + this.ttlMs;
    const lost: PresenceSocket[] = [];
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      const args: Array<string | number> = [expiry, this.#userPrefix];
      for (const e of chunk) args.push(e.userId, e.connectionId);
      args.push(this.ttlMs * 2);
      const gone = await HEARTBEAT.run<number[]>(this.client, [this.#all], args);
      for (const j of gone) lost.push(chunk[j]);
    }
    return lost;
  }

  async online(userIds: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const ids = userIds.slice(i, i + CHUNK);
      const counts = await ONLINE.run<number[]>(
        this.client,
        ids.map((id) => this.#userPrefix + id),
        [Date.now()],
      );
      ids.forEach((id, j) => {
        if (counts[j] > 0) out.add(id);
      });
    }
    return out;
  }

  async connections(userIds: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const ids = userIds.slice(i, i + CHUNK);
      out.push(
        ...await CONNECTIONS.run<string[]>(
          this.client,
          ids.map((id) => this.#userPrefix + id),
          [Date.now()],
        ),
      );
    }
    return out;
  }

  async expired(): Promise<ExpiredPresence[]> {
    const flat = await EXPIRED.run<string[]>(this.client, [this.#all], [
      Date.now(),
      this.#userPrefix,
      200,
      this.ttlMs,
    ]);
    const out: ExpiredPresence[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      out.push({ userId: flat[i], lastSeenAt: new Date(Number(flat[i + 1])).toISOString() });
    }
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
