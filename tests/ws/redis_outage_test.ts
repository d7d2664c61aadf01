/**
 * Redis is killed while clients chat on two instances, then restarted empty. What each use of Redis
 * does meanwhile is decided per use (docs/CACHE.md, the operations runbook): chat goes on within each
 * instance, messaging is not rate limited (fails open), sign-in is refused with 503 `unavailable`
 * (fails closed), cached reads fall through to the store, and presence converges once Redis is back.
 */
import assert from "node:assert/strict";
import { range, startCluster } from "../support/cluster.ts";
import type { ServerProcess } from "../support/process.ts";
import { ResilientClient } from "../support/resilient.ts";
import { assertProblem, Client, registerUser, type TestUser } from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

/** The metric's value summed over the series whose labels contain every one of `labels`. */
async function metric(server: ServerProcess, name: string, labels: string[]): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => labels.every((label) => l.includes(label)))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

function login(server: ServerProcess, u: TestUser) {
  return new Client(server.url).post("/v1/auth/login", {
    username: u.username,
    password: u.password,
  });
}

Deno.test({
  name: "Redis killed mid-chat and restarted: chat goes on on each instance, login is 503 while " +
    "it is down and works after, messages are never limited, reads never go stale, and presence " +
    "converges (a socket closed during the outage ends offline with lastSeenAt everywhere; one " +
    "open throughout is online as seen from both instances)",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2, { PRESENCE_TTL_SECONDS: "5" });
    const { redis, instances: [one, two] } = cluster;
    const sockets: Array<{ close(): Promise<unknown> }> = [];
    try {
      const [a, b, stays, leaves] = await Promise.all(
        [one, two, two, one].map((s) => registerUser(s.url)),
      );
      const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
      const history = (s: ServerProcess, u: TestUser) =>
        new Client(s.url, u.accessToken).get(`/v1/conversations/${dm.id}/messages?limit=200`);
      const list = (s: ServerProcess, u: TestUser) =>
        new Client(s.url, u.accessToken).get("/v1/conversations");
      // Each of a and b has a socket on each instance; a talks on one, b on two.
      const a1 = new ResilientClient([one.url], a.accessToken);
      const b1 = new ResilientClient([one.url], b.accessToken);
      const a2 = new ResilientClient([two.url], a.accessToken);
      const b2 = new ResilientClient([two.url], b.accessToken);
      await Promise.all([a1, b1, a2, b2].map((c) => c.connect()));
      sockets.push(a1, b1, a2, b2);
      const stayer = await WsClient.connect(two.url, stays.accessToken);
      const leaver = await WsClient.connect(one.url, leaves.accessToken);
      sockets.push(stayer);
      let last = (await a1.send(dm.id, "warm", "before the outage")).seq;
      await Promise.all([b2.waitFor(dm.id, last), a2.waitFor(dm.id, last)]);
      for (const s of [one, two]) {
        for (const u of [a, b]) await Promise.all([history(s, u), history(s, u), list(s, u)]);
      }
      assert.ok(await metric(two, "parley_cache_hits_total", ['read="history"']) > 0);

      await redis.stop();

      // Chat goes on within each instance, and nothing limits the messages.
      for (let i = 0; i < 15; i++) {
        last = (await a1.send(dm.id, `one-${i}`, `from one during the outage ${i}`)).seq;
        await b1.waitFor(dm.id, last);
        last = (await b2.send(dm.id, `two-${i}`, `from two during the outage ${i}`)).seq;
        await a2.waitFor(dm.id, last);
      }
      // Reads fall through to the store: both instances show everything, whoever committed it.
      for (const s of [one, two]) {
        const page = (await history(s, b)).body.messages;
        assert.equal(page.at(-1).seq, last, "no stale cached page");
        assert.equal(page.filter((m: { kind: string }) => m.kind === "text").length, 31);
        const row = (await list(s, a)).body.conversations[0];
        assert.equal(row.lastSeq, last);
        assert.equal(row.lastMessage.seq, last);
      }
      assert.ok(
        await metric(one, "parley_cache_misses_total", ['reason="unavailable"']) > 0,
        "the cache outage is visible in the metrics",
      );
      // The limiter outage: one log line per instance, every unlimited send counted.
      for (const s of [one, two]) {
        const warned = s.lines.filter((l) => l.includes("message rate limiter unavailable"));
        assert.equal(warned.length, 1, "logged once per outage");
        assert.ok(await metric(s, "parley_message_limiter_unavailable_total", []) >= 15);
      }
      // Profiles still answer; presence cannot be known, so they show offline.
      const profile = await new Client(two.url, a.accessToken).get(`/v1/users/${stays.id}`);
      assert.equal(profile.status, 200);
      assert.equal(profile.body.presence, "offline");
      // Sign-in and registration fail closed.
      for (const s of [one, two]) assertProblem(await login(s, a), 503, "unavailable");
      assertProblem(
        await new Client(one.url).post("/v1/auth/register", {
          username: `late${Date.now().toString(36)}`,
          password: "correct horse battery",
        }),
        503,
        "unavailable",
      );
      // A user's only socket closes during the outage.
      const closedAt = Date.now();
      await leaver.close();

      await redis.start();

      for (const s of [one, two]) {
        await eventually("sign-in works again", () => login(s, b), (r) => r.status === 200);
      }
      // Presence converges on both instances.
      for (const s of [one, two]) {
        const viewer = new Client(s.url, a.accessToken);
        const gone = await eventually(
          "the user whose socket closed during the outage is offline with lastSeenAt",
          async () => (await viewer.get(`/v1/users/${leaves.id}`)).body,
          (p) => p.presence === "offline" && Date.parse(p.lastSeenAt) >= closedAt - 1000,
        );
        assert.ok(Date.parse(gone.lastSeenAt) <= Date.now());
        await eventually(
          "the user connected throughout is online",
          async () => (await viewer.get(`/v1/users/${stays.id}`)).body,
          (p) => p.presence === "online",
        );
      }
      // Cross-instance delivery resumes, and the other instance catches up on what it missed.
      last = (await a1.send(dm.id, "after", "after recovery")).seq;
      await Promise.all([b2.waitFor(dm.id, last, 30_000), a2.waitFor(dm.id, last, 30_000)]);
      for (const c of [b1, a2, b2]) {
        assert.deepEqual(c.received.get(dm.id), range(2, last), "every seq once, in order");
      }
      // The cache serves again, and what it serves is current.
      const hitsBefore = await metric(two, "parley_cache_hits_total", ['read="history"']);
      await history(two, b);
      const cached = await history(two, b);
      assert.equal(cached.body.messages.at(-1).seq, last);
      assert.deepEqual(cached.body, (await history(one, b)).body);
      assert.ok(await metric(two, "parley_cache_hits_total", ['read="history"']) > hitsBefore);
    } finally {
      await Promise.all(sockets.map((s) => s.close().catch(() => {})));
    }
  },
});
