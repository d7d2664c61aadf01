import assert from "node:assert/strict";
import type { PresenceRegistry } from "../../src/presence/presence.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/** Makes a fresh registry; `clock` advances time for adapters that expire sockets. */
export type PresenceFactory = () => Promise<{
  registry: PresenceRegistry;
  /** A second registry on the same shared state (another instance), when the adapter has one. */
  peer?: PresenceRegistry;
  close: () => Promise<void>;
}>;

/**
 * The behaviour every {@link PresenceRegistry} adapter must have. `shared` adapters (state shared by
 * instances) must also pass the cross-instance test, with the factory's `peer`. The tests run
 * sanitized unless `sanitizers` turns that off.
 */
export function runPresenceContract(
  name: string,
  factory: PresenceFactory,
  shared: boolean,
  sanitizers: Sanitizers = sanitized,
): void {
  const test = (
    title: string,
    fn: (r: PresenceRegistry, peer?: PresenceRegistry) => Promise<void>,
  ) =>
    Deno.test({
      name: `${name} presence: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { registry, peer, close } = await factory();
        try {
          await fn(registry, peer);
        } finally {
          await close();
        }
      },
    });

  test("a user is online from their first socket to their last", async (r) => {
    const u = crypto.randomUUID();
    assert.equal(await r.connect(u, "s1"), true, "first socket");
    assert.equal(await r.connect(u, "s2"), false);
    assert.deepEqual(await r.online([u, "nobody"]), new Set([u]));
    assert.equal(await r.disconnect(u, "s1"), false);
    assert.deepEqual(await r.online([u]), new Set([u]));
    assert.equal(await r.disconnect(u, "s2"), true, "last socket");
    assert.deepEqual(await r.online([u]), new Set());
    assert.equal(await r.disconnect(u, "s2"), false, "unknown socket");
  });

  test("connections lists every live socket of the users asked about, and only those", async (r) => {
    const [u, v] = [crypto.randomUUID(), crypto.randomUUID()];
    await r.connect(u, "d1.s1");
    await r.connect(u, "d2.s2");
    await r.connect(v, "d3.s3");
    assert.deepEqual((await r.connections([u, "nobody"])).sort(), ["d1.s1", "d2.s2"]);
    await r.disconnect(u, "d1.s1");
    assert.deepEqual((await r.connections([u, v])).sort(), ["d2.s2", "d3.s3"]);
    assert.deepEqual(await r.connections([]), []);
  });

  if (shared) {
    test("presence is shared across instances", async (r, peer) => {
      assert.ok(peer, "a shared adapter's factory provides a peer");
      await sharedAcrossInstances(r, peer);
    });
  }
  test("a heartbeat reports the sockets the registry lost and never brings a closed one back", async (r) => {
    const [u, v] = [crypto.randomUUID(), crypto.randomUUID()];
    await r.connect(u, "open");
    await r.connect(u, "closed");
    await r.disconnect(u, "closed");
    const lost = await r.heartbeat([
      { userId: u, connectionId: "open" },
      { userId: u, connectionId: "closed" },
      { userId: v, connectionId: "never registered" },
    ]);
    assert.deepEqual(lost, [
      { userId: u, connectionId: "closed" },
      { userId: v, connectionId: "never registered" },
    ]);
    assert.deepEqual(await r.online([u, v]), new Set([u]));
    assert.equal(await r.disconnect(u, "open"), true, "the closed socket did not come back");
  });

  test("heartbeats keep sockets alive; many users are checked at once", async (r) => {
    const users = Array.from({ length: 700 }, () => crypto.randomUUID());
    for (const u of users) await r.connect(u, `s-${u}`);
    assert.deepEqual(
      await r.heartbeat(users.map((u) => ({ userId: u, connectionId: `s-${u}` }))),
      [],
    );
    assert.equal((await r.online(users)).size, users.length);
    assert.deepEqual(await r.expired(), []);
  });
}

async function sharedAcrossInstances(r: PresenceRegistry, peer: PresenceRegistry): Promise<void> {
  const u = crypto.randomUUID();
  assert.equal(await r.connect(u, "a"), true);
  assert.equal(await peer.connect(u, "b"), false, "already online through the other instance");
  assert.deepEqual(await peer.online([u]), new Set([u]));
  assert.equal(await r.disconnect(u, "a"), false);
  assert.equal(await peer.disconnect(u, "b"), true);
  assert.deepEqual(await r.online([u]), new Set());
}
