import assert from "node:assert/strict";
import { startCluster } from "../support/cluster.ts";
import { Client, registerUser } from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

Deno.test({
  name: "a hung Redis (SIGSTOP) fails as fast as a dead one: sends keep being acked (never a 1 s " +
    "gap), login answers 503 at once, and everything recovers when it thaws",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2, {
      REDIS_TIMEOUT_MS: "300",
      WS_FRAMES_PER_SECOND: "1000",
      WS_FRAMES_BURST: "2000",
    });
    const { redis, instances: [one, two] } = cluster;
    const [a, b] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const sender = await WsClient.connect(one.url, a.accessToken);
    const watcher = await WsClient.connect(two.url, b.accessToken);

    redis.pause();
    const acks: number[] = [];
    const started = Date.now();
    try {
      for (let i = 0; Date.now() - started < 4000; i++) {
        const ack = await sender.request({
          type: "message.send",
          conversationId: dm.id,
          clientMsgId: `paused-${i}`,
          text: `while Redis is paused ${i}`,
        }, 3000);
        assert.equal(ack.ok, true, JSON.stringify(ack));
        acks.push(Date.now());
      }
      const gaps = acks.map((t, i) => t - (i === 0 ? started : acks[i - 1]));
      assert.ok(Math.max(...gaps) < 1000, `longest wait for an ack: ${Math.max(...gaps)} ms`);
      assert.ok(acks.length > 20, `${acks.length} acks in 4 s`);
      const t = Date.now();
      const login = await new Client(two.url).post("/v1/auth/login", {
        username: b.username,
        password: b.password,
      });
      assert.equal(login.status, 503);
      assert.ok(Date.now() - t < 1500, "login fails fast instead of hanging");
    } finally {
      redis.resume();
    }
    // Thawed: a new message crosses instances again.
    const last = await sender.request({
      type: "message.send",
      conversationId: dm.id,
      clientMsgId: "after-thaw",
      text: "after the thaw",
    });
    await watcher.next(
      (f) => f.event === "message.created" && f.data.id === last.message.id,
      15_000,
    );
    await eventually(
      "login works again",
      () =>
        new Client(two.url).post("/v1/auth/login", { username: b.username, password: b.password }),
      (r) => r.status === 200,
      { timeoutMs: 15_000, everyMs: 200 },
    );
    await Promise.all([sender.close(), watcher.close()]);
  },
});
