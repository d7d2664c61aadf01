import assert from "node:assert/strict";
import { startCluster } from "../support/cluster.ts";
import { Client, registerUser } from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

/** The stated worst case (docs/OPERATIONS.md): a revocation takes effect within 5 s, Redis or not. */
const WINDOW_MS = 5_000;

Deno.test({
  name:
    "with Redis down, a session revoked on one instance stops working on the other within 5 s " +
    "(token 401, socket closed 4001), 10 of 10 times",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2);
    const { redis, instances: [one, two] } = cluster;
    const user = await registerUser(one.url);
    // Ten sessions, each with a socket on instance two and a token instance two has cached.
    const sessions = [];
    for (let i = 0; i < 10; i++) {
      const res = await new Client(one.url).post("/v1/auth/login", {
        username: user.username,
        password: user.password,
      });
      assert.equal(res.status, 200);
      const token = res.body.accessToken as string;
      const socket = await WsClient.connect(two.url, token);
      assert.equal((await new Client(two.url, token).get("/v1/users/me")).status, 200);
      sessions.push({ token, socket });
    }
    await redis.stop();
    try {
      for (const [i, s] of sessions.entries()) {
        const started = Date.now();
        assert.equal((await new Client(one.url, s.token).post("/v1/auth/logout")).status, 204);
        const closed = await s.socket.closed;
        assert.equal(closed.code, 4001, `socket ${i}`);
        await eventually(
          `token ${i} refused on instance two`,
          // A pooled connection the server closed meanwhile may be reset: ask again.
          () => new Client(two.url, s.token).get("/v1/users/me").catch(() => null),
          (r) => r?.status === 401,
          { timeoutMs: WINDOW_MS, everyMs: 100 },
        );
        const took = Date.now() - started;
        assert.ok(took <= WINDOW_MS, `revocation ${i} took ${took} ms`);
      }
    } finally {
      await redis.start();
    }
  },
});
