import assert from "node:assert/strict";
import { startCluster } from "../support/cluster.ts";
import { assertProblem, Client, ok, registerUser } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

/** Promotes `username` with the operator tool, against the cluster's shared store. */
async function promote(env: Record<string, string>, username: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/admin_create.ts", "--username", username],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test({
  name: "suspension on one instance closes the user's sockets on another within 2 s; login and " +
    "refresh are refused on both",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2);
    const { instances: [one, two] } = cluster;
    const [admin, user] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    await promote(cluster.env, admin.username);
    const sockets = await Promise.all([
      WsClient.connect(two.url, user.accessToken),
      WsClient.connect(two.url, user.accessToken),
      WsClient.connect(one.url, user.accessToken),
    ]);
    const started = Date.now();
    ok(await admin.client.post(`/v1/admin/users/${user.id}/suspend`, { reason: "abuse" }));
    const closes = await Promise.all(sockets.map((s) => s.closed));
    const elapsed = Date.now() - started;
    assert.deepEqual(closes.map((c) => c.code), [4001, 4001, 4001]);
    assert.ok(elapsed < 2000, `closed after ${elapsed} ms`);
    for (const url of [one.url, two.url]) {
      assertProblem(
        await new Client(url).post("/v1/auth/login", {
          username: user.username,
          password: user.password,
        }),
        403,
        "suspended",
      );
      assertProblem(
        await new Client(url, user.accessToken).get("/v1/users/me"),
        401,
        "unauthorized",
      );
    }
  },
});
