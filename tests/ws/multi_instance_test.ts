import assert from "node:assert/strict";
import { range, startCluster } from "../support/cluster.ts";
import { ResilientClient } from "../support/resilient.ts";
import { registerUser } from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

Deno.test({
  name: "two instances sharing Redis and a store: chat and presence cross instances; a SIGKILLed " +
    "instance's clients resume on the other and nothing acknowledged is lost or duplicated",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2);
    const { instances: [one, two] } = cluster;
    const [a, b] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    // Presence crosses instances: A on one, B watching on two.
    const watcher = await WsClient.connect(two.url, b.accessToken);
    const sender = new ResilientClient([one.url, two.url], a.accessToken);
    await sender.connect();
    assert.equal((await watcher.event("presence")).data.presence, "online");
    assert.equal((await b.client.get(`/v1/users/${a.id}`)).body.presence, "online");
    await watcher.close();

    const receiver = new ResilientClient([two.url, one.url], b.accessToken);
    await receiver.connect();
    const first = await sender.send(dm.id, "hello", "hello across instances");
    await receiver.waitFor(dm.id, first.seq);

    // Stream from A (on instance one); kill instance one in the middle.
    const acked: number[] = [];
    const stream = (async () => {
      for (let i = 0; i < 60; i++) {
        acked.push((await sender.send(dm.id, `m${i}`, `message ${i}`)).seq);
      }
    })();
    while (acked.length < 20) await new Promise((r) => setTimeout(r, 5));
    one.kill("SIGKILL");
    await one.exited;
    await stream;
    assert.ok(sender.reconnects >= 1, "the sender moved to the surviving instance");
    const head = (await b.client.as(b.accessToken).get(`/v1/conversations/${dm.id}`)).body.lastSeq;
    await receiver.waitFor(dm.id, head);
    const history =
      (await b.client.get(`/v1/conversations/${dm.id}/messages?limit=200`)).body.messages;
    const ids = history.filter((m: { kind: string }) => m.kind === "text").map((
      m: { clientMsgId: string },
    ) => m.clientMsgId);
    assert.deepEqual(
      ids,
      ["hello", ...Array.from({ length: 60 }, (_, i) => `m${i}`)],
      "each once, in order",
    );
    assert.deepEqual(
      receiver.received.get(dm.id),
      range(2, head),
      "the receiver saw every seq once",
    );
    const own = sender.received.get(dm.id)!;
    assert.deepEqual(
      own,
      [...new Set(own)].sort((x, y) => x - y),
      "the sender's devices too, no duplicates",
    );
    await Promise.all([sender.close(), receiver.close()]);
  },
});

Deno.test({
  name:
    "Redis restarted mid-stream: each instance keeps serving its users, and after recovery every " +
    "message reaches the other instance's clients exactly once, in order",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2);
    const { redis, instances: [one, two] } = cluster;
    const [a, b] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const sender = new ResilientClient([one.url], a.accessToken);
    const sameInstance = new ResilientClient([one.url], b.accessToken);
    const otherInstance = new ResilientClient([two.url], b.accessToken);
    await Promise.all([sender.connect(), sameInstance.connect(), otherInstance.connect()]);
    const warm = await sender.send(dm.id, "warm", "before the outage");
    await otherInstance.waitFor(dm.id, warm.seq);

    await redis.stop();
    // Chat goes on: sends commit and users on the same instance get them live.
    let last = warm.seq;
    for (let i = 0; i < 20; i++) {
      last = (await sender.send(dm.id, `down${i}`, `during outage ${i}`)).seq;
    }
    await sameInstance.waitFor(dm.id, last);
    await redis.start();
    for (let i = 0; i < 20; i++) {
      last = (await sender.send(dm.id, `up${i}`, `after recovery ${i}`)).seq;
    }
    // The other instance catches up from the store once its broker is back.
    await otherInstance.waitFor(dm.id, last, 30_000);
    for (const c of [sameInstance, otherInstance]) {
      assert.deepEqual(c.received.get(dm.id), range(2, last), "every seq once, in order");
    }
    assert.equal(otherInstance.reconnects, 0, "sockets stayed up through the outage");
    // Each Redis client reconnects on its own backoff (up to 5 s): readiness follows shortly.
    await eventually(
      "instance two is ready again",
      async () => (await (await fetch(`${two.url}/readyz`)).json()).status,
      (status) => status === "ok",
      { everyMs: 100 },
    );
    await Promise.all([sender.close(), sameInstance.close(), otherInstance.close()]);
  },
});
