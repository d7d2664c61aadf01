import assert from "node:assert/strict";
import { spawnServer } from "../support/process.ts";
import { registerUser, tempDir } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

Deno.test(
  "SIGTERM: sockets close with 1012, new work gets 503, in-flight requests finish, exit 0",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-shutdown-");
    await using server = await spawnServer({ DATA_DIR: dir.path });
    // An in-flight request whose body is still arriving when the signal comes.
    const body = new TransformStream<Uint8Array, Uint8Array>();
    const writer = body.writable.getWriter();
    const enc = new TextEncoder();
    const response = fetch(`${server.url}/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body.readable,
      duplex: "half",
    } as RequestInit);
    const u = await registerUser(server.url);
    const socket = await WsClient.connect(server.url, u.accessToken);
    await writer.write(enc.encode('{"username":"inflight","pass'));
    await server.waitForLine(/"url.path":"\/v1\/auth\/register"|request/, 500).catch(() => {});
    server.kill("SIGTERM");
    await server.waitForLine(/"message":"shutting down"/);
    assert.deepEqual(await socket.closed, { code: 1012, reason: "server restarting" });
    const refused = await fetch(`${server.url}/v1/users/me`, {
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    assert.equal(refused.status, 503, "new work is refused while draining");
    assert.equal((await refused.json()).code, "unavailable");
    await writer.write(enc.encode('word":"long enough password"}'));
    await writer.close();
    const res = await response;
    assert.equal(res.status, 201, `the in-flight request completes: ${server.lines.join("\n")}`);
    await res.body?.cancel();
    assert.equal(await server.exited, 0);
    assert.ok(server.lines.some((l) => l.includes('"message":"shutdown complete"')));
    await assert.rejects(fetch(`${server.url}/healthz`), "no longer accepting");
  },
);

Deno.test(
  "a bad configuration fails start-up with one clear line and a non-zero exit",
  sanitized,
  async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
      env: { PORT: "not-a-port" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(out.code, 0);
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(err.split("\n").length, 1, err);
    assert.match(err, /PORT/);
  },
);

Deno.test("production without keys refuses to start, naming the variable", sanitized, async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: { PARLEY_ENV: "production", PORT: "0", DATA_DIR: "/tmp/parley-no-keys" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(out.code, 0);
  assert.match(new TextDecoder().decode(out.stderr), /JWT_KEYS is required in production/);
});
