import assert from "node:assert/strict";
import { EPOCH, type ReadCache } from "../../src/cache/cache.ts";
import { eventually } from "../support/wait.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/** Makes a fresh cache; `peer` is a second instance on the same shared state, when there is one. */
export type CacheFactory = () => Promise<{
  cache: ReadCache;
  peer?: ReadCache;
  close: () => Promise<void>;
}>;

const TTL = 60_000;

/**
 * The behaviour every {@link ReadCache} adapter must have. `shared` adapters must also show a bump on
 * one instance to the other (the factory's `peer`). The tests run sanitized unless `sanitizers`
 * turns that off.
 */
export function runCacheContract(
  name: string,
  factory: CacheFactory,
  shared: boolean,
  sanitizers: Sanitizers = sanitized,
): void {
  const test = (title: string, fn: (c: ReadCache, peer?: ReadCache) => Promise<void>) =>
    Deno.test({
      name: `${name} read cache: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { cache, peer, close } = await factory();
        try {
          await fn(cache, peer);
        } finally {
          await close();
        }
      },
    });
  const dep = () => `d:${crypto.randomUUID()}`;
  const key = () => `k:${crypto.randomUUID()}`;

  test("a miss gives the versions to stamp with; the entry then hits until a bump", async (c) => {
    const [k, a, b] = [key(), dep(), dep()];
    const miss = await c.read(k, [a, b]);
    assert.equal(miss.value, null);
    assert.deepEqual(Object.keys(miss.versions).sort(), [EPOCH, a, b].sort());
    await c.write(k, "built", miss.versions, TTL);
    assert.equal((await c.read(k, [a])).value, "built");
    assert.equal((await c.read(k, [])).value, "built", "validity is the entry's own stamp");
    await c.bump([b]);
    assert.equal((await c.read(k, [a, b])).value, null, "one changed dependency is enough");
    assert.equal((await c.read(k, [a, b])).value, null, "and it stays invalid");
  });

  test("versions are stable between bumps and new after each", async (c) => {
    const [k, a] = [key(), dep()];
    await c.write(k, "x", await c.versions([a]), TTL);
    const v1 = (await c.versions([a]))[a];
    assert.equal((await c.versions([a]))[a], v1);
    await c.bump([a]);
    const v2 = (await c.versions([a]))[a];
    await c.bump([a]);
    const v3 = (await c.versions([a]))[a];
    assert.equal(new Set([v1, v2, v3]).size, 3);
    assert.deepEqual(Object.keys(await c.versions([])), [EPOCH]);
    await c.bump([]);
  });

  test("a builder that read versions before a bump cannot store its entry", async (c) => {
    const [k, a] = [key(), dep()];
    const seen = await c.read(k, [a]);
    await c.bump([a]);
    await c.write(k, "from before the change", seen.versions, TTL);
    assert.equal((await c.read(k, [a])).value, null);
  });

  test("a stale write never replaces a valid entry", async (c) => {
    const [k, a] = [key(), dep()];
    await c.write(k, "seed", (await c.read(k, [a])).versions, TTL);
    const slow = (await c.read(k, [a])).versions;
    await c.bump([a]);
    const fresh = (await c.read(k, [a])).versions;
    await c.write(k, "new", fresh, TTL);
    await c.write(k, "old", slow, TTL);
    assert.equal((await c.read(k, [a])).value, "new");
  });

  test("a dependency that had no version: a bump before the write still wins", async (c) => {
    const [k, a] = [key(), dep()];
    const placeholder = (await c.read(k, [a])).versions;
    assert.deepEqual(await c.versions([a]), placeholder, "reading creates no version");
    await c.bump([a]);
    await c.write(k, "stale", placeholder, TTL);
    assert.equal((await c.read(k, [a])).value, null);
  });

  test("keys are independent; an entry may depend on a thousand things", async (c) => {
    const deps = Array.from({ length: 1000 }, dep);
    const [k1, k2, k3] = [key(), key(), key()];
    await c.write(k1, "one", await c.versions(deps), TTL);
    await c.write(k2, "two", await c.versions([deps[0]]), TTL);
    await c.write(k3, "three", await c.versions([dep()]), TTL);
    assert.equal((await c.read(k1, [])).value, "one");
    await c.bump([deps[999]]);
    assert.equal((await c.read(k1, [])).value, null);
    assert.equal((await c.read(k2, [])).value, "two", "shares no changed dependency");
    await c.bump([deps[0]]);
    assert.equal((await c.read(k2, [])).value, null);
    assert.equal((await c.read(k3, [])).value, "three");
  });

  test("bumping the epoch invalidates every entry", async (c) => {
    const [k1, k2] = [key(), key()];
    await c.write(k1, "one", (await c.read(k1, [dep()])).versions, TTL);
    await c.write(k2, "two", (await c.read(k2, [])).versions, TTL);
    assert.equal((await c.read(k2, [])).value, "two");
    await c.bump([EPOCH]);
    assert.equal((await c.read(k1, [])).value, null);
    assert.equal((await c.read(k2, [])).value, null);
  });

  test("values round-trip exactly, large and in any script", async (c) => {
    const [k, a] = [key(), dep()];
    const value = JSON.stringify({ text: "👍🏽 héllo 日本語 \u0000 \n".repeat(20_000) });
    await c.write(k, value, await c.versions([a]), TTL);
    assert.equal((await c.read(k, [a])).value, value);
  });

  test("entries expire after their time to live", async (c) => {
    const [k, a] = [key(), dep()];
    await c.write(k, "brief", await c.versions([a]), 50);
    await eventually(
      "the entry expired",
      async () => (await c.read(k, [a])).value,
      (v) => v === null,
      {
        everyMs: 10,
      },
    );
  });

  if (shared) {
    test("a bump on one instance invalidates the entry on every instance", async (c, peer) => {
      assert.ok(peer, "a shared adapter's factory provides a peer");
      const [k, a] = [key(), dep()];
      await c.write(k, "shared", (await c.read(k, [a])).versions, TTL);
      assert.equal((await peer.read(k, [a])).value, "shared");
      await peer.bump([a]);
      assert.equal((await c.read(k, [a])).value, null);
    });
  }
}
