import type { RedisClient } from "../redis/client.ts";
import { RedisScript } from "../redis/script.ts";
import { type CacheLookup, EPOCH, type ReadCache, type Versions } from "./cache.ts";

// Versions are string keys `<prefix>v:<dep>` holding a random token ("" reads as "none yet");
// entries are hashes `<prefix>e:<key>` with the stamp `s` (a JSON array: dep, token, dep, token, ...)
// and the value `v`. Tokens come from the client (Lua's PRNG repeats itself in every script run).
// Stamp keys are computed inside the scripts, so this needs a single Redis (or a primary), not
// Redis Cluster.

// Whether every dep of a stamp (a flat array: dep, token, ...) still has that token ("" = none),
// read with MGET in chunks of 1,000 keys.
const HOLDS = `
local function holds(s, prefix)
  for from = 1, #s, 2000 do
    local keys = {}
    for j = from, math.min(from + 1998, #s - 1), 2 do keys[#keys + 1] = prefix .. s[j] end
    local current = redis.call('MGET', unpack(keys))
    for k = 1, #keys do
      if (current[k] or '') ~= s[from + 2 * k - 1] then return false end
    end
  end
  return true
end
`;

// KEYS[1]: the entry; KEYS[2..]: versions asked for. ARGV: version key prefix.
const READ = new RedisScript(`${HOLDS}
local versions = {}
for i = 2, #KEYS do versions[i - 1] = redis.call('GET', KEYS[i]) or '' end
local e = redis.call('HMGET', KEYS[1], 's', 'v')
if e[1] and e[2] and holds(cjson.decode(e[1]), ARGV[1]) then return {e[2], versions} end
return {false, versions}
`);

// KEYS[1]: the entry. ARGV: stamp, value, TTL (ms), version prefix, token base, version TTL (ms).
// A stale stamp would never be served: it is not written, so it cannot replace another builder's
// valid entry. A dependency stamped "" gets its first version here, only while it still has none.
const WRITE = new RedisScript(`${HOLDS}
local s = cjson.decode(ARGV[1])
if not holds(s, ARGV[4]) then return 0 end
for j = 1, #s, 2 do
  if s[j + 1] == '' then
    s[j + 1] = ARGV[5] .. '.' .. j
    redis.call('SET', ARGV[4] .. s[j], s[j + 1], 'PX', ARGV[6])
  end
end
redis.call('HSET', KEYS[1], 's', cjson.encode(s), 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

// KEYS: version keys. ARGV: token base, version TTL.
const BUMP = new RedisScript(`
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1] .. '.' .. i, 'PX', ARGV[2]) end
return #KEYS
`);

// KEYS: the server identity key, the epoch version. ARGV: run_id, token.
const SERVER = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return 1
`);

/** How long an untouched version lives; losing one is safe (it comes back as a new token). */
const VERSION_TTL_MS = 24 * 3600 * 1000;

/**
 * The Redis {@link ReadCache}, shared by all instances: a bump on one instance invalidates the entry
 * everywhere. Each call is one script, so a lookup is one round trip.
 *
 * Redis itself can go back in time (a restart from an older snapshot, a failover to a replica that
 * had not received the latest bumps) or forget everything (a restart without persistence, when a
 * builder may still hold versions read before it); then old stamps could match again while the store
 * moved on. Each time its connection is (re)established, the adapter compares the server's `run_id`
 * with the one recorded in Redis; when it differs, it bumps the {@link EPOCH} every stamp carries.
 */
export class RedisReadCache implements ReadCache {
  readonly kind = "redis" as const;
  readonly #prefix: string;
  #connection: number;
  #checked?: { connection: number; done: Promise<void> };

  constructor(private readonly client: RedisClient, prefix: string) {
    this.#prefix = `${prefix}cache:`;
    this.#connection = client.isReady ? 1 : 0;
    client.on("ready", () => this.#connection++);
  }

  async read(key: string, deps: string[]): Promise<CacheLookup> {
    await this.#checkServer();
    const all = [EPOCH, ...deps];
    const [value, tokens] = await READ.run<[string | null, string[]]>(
      this.client,
      [this.#entry(key), ...all.map((d) => this.#version(d))],
      [`${this.#prefix}v:`],
    );
    return { value: value ?? null, versions: zip(all, tokens) };
  }

  async versions(deps: string[]): Promise<Versions> {
    await this.#checkServer();
    const all = [EPOCH, ...deps];
    const tokens = await this.client.mGet(all.map((d) => this.#version(d)));
    return zip(all, tokens.map((t) => t ?? ""));
  }

  async write(key: string, value: string, stamp: Versions, ttlMs: number): Promise<void> {
    await this.#checkServer();
    await WRITE.run(this.client, [this.#entry(key)], [
      JSON.stringify(Object.entries(stamp).flat()),
      value,
      Math.max(1, Math.round(ttlMs)),
      `${this.#prefix}v:`,
      freshToken(),
      VERSION_TTL_MS,
    ]);
  }

  async bump(deps: string[]): Promise<void> {
    if (deps.length === 0) return;
    await this.#checkServer();
    await BUMP.run(this.client, deps.map((d) => this.#version(d)), [freshToken(), VERSION_TTL_MS]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Once per connection: bumps the epoch when the server is not the one the cache was built on. */
  #checkServer(): Promise<void> {
    const connection = this.#connection;
    if (this.#checked?.connection !== connection) {
      const done = this.#recordServer();
      this.#checked = { connection, done };
      done.catch(() => {
        if (this.#checked?.done === done) this.#checked = undefined;
      });
    }
    return this.#checked!.done;
  }

  async #recordServer(): Promise<void> {
    let runId = "unknown";
    try {
      runId = /run_id:([0-9a-f]+)/.exec(String(await this.client.info("server")))?.[1] ?? runId;
    } catch {
      // INFO may be forbidden by an ACL; then a Redis gone back in time cannot be recognised. If
      // Redis is down instead, the script below fails and the caller falls back to the store.
    }
    await SERVER.run(this.client, [`${this.#prefix}server`, this.#version(EPOCH)], [
      runId,
      freshToken(),
    ]);
  }

  #entry(key: string): string {
    return `${this.#prefix}e:${key}`;
  }

  #version(dep: string): string {
    return `${this.#prefix}v:${dep}`;
  }
}

function freshToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

function zip(deps: string[], tokens: string[]): Versions {
  const out: Versions = {};
  deps.forEach((d, i) => out[d] = tokens[i]);
  return out;
}
