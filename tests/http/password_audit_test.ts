import assert from "node:assert/strict";
import { downloadArchive, exportReady, makeAdmin } from "../support/privacy.ts";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const NEW_PASSWORD = "a brand new passphrase";

serverTest(
  "POST /v1/users/me/password checks the current password, then revokes the other sessions and their sockets and keeps this one",
  async (s) => {
    const alice = await registerUser(s.url);
    const other = await new Client(s.url).post("/v1/auth/login", {
      username: alice.username,
      password: alice.password,
    });
    const phone = alice.client.as(other.body.accessToken);
    const ws = await WsClient.connect(s.url, other.body.accessToken);
    const change = (body: unknown) => alice.client.post("/v1/users/me/password", body);

    assertProblem(
      await change({ currentPassword: "wrong password", newPassword: NEW_PASSWORD }),
      403,
      "forbidden",
    );
    const short = await change({ currentPassword: alice.password, newPassword: "short" });
    assertProblem(short, 400, "validation_failed");
    assert.equal(short.body.errors[0].path, "newPassword");
    assert.equal((await phone.get("/v1/users/me")).status, 200, "nothing changed yet");

    const ok = await change({ currentPassword: alice.password, newPassword: NEW_PASSWORD });
    assert.equal(ok.status, 204);
    assert.equal((await ws.closed).code, 4001, "the other device's socket closes");
    assertProblem(await phone.get("/v1/users/me"), 401, "unauthorized");
    assert.equal((await alice.client.get("/v1/users/me")).status, 200, "this session stays");
    const sessions = (await alice.client.get("/v1/sessions")).body.sessions;
    assert.deepEqual(sessions.map((x: any) => x.current), [true]);
    const login = (password: string) =>
      new Client(s.url).post("/v1/auth/login", { username: alice.username, password });
    assertProblem(await login(alice.password), 401, "unauthorized");
    assert.equal((await login(NEW_PASSWORD)).status, 200);
  },
);

serverTest("wrong passwords at re-entry count against the account like failed logins (then 429)", {
  env: { RATE_LOGIN_FAILURES_PER_ACCOUNT: "3" },
}, async (s) => {
  const alice = await registerUser(s.url);
  for (let i = 0; i < 3; i++) {
    assertProblem(
      await alice.client.request("DELETE", "/v1/users/me", { password: `guess ${i}` }),
      403,
      "forbidden",
    );
  }
  const limited = await alice.client.request("DELETE", "/v1/users/me", {
    password: alice.password,
  });
  assertProblem(limited, 429, "rate_limited");
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
  assertProblem(
    await new Client(s.url).post("/v1/auth/login", {
      username: alice.username,
      password: alice.password,
    }),
    429,
    "rate_limited",
  );
  assert.equal((await alice.client.get("/v1/users/me")).status, 200, "still there");
});

serverTest(
  "the audit log records logins, password changes, role changes, exports and erasures (who, what, when, where), never content or the erased username",
  async (s) => {
    const admin = await registerUser(s.url);
    await makeAdmin(s, admin);
    const alice = await registerUser(s.url, { username: "audited_alice_k3" });
    const bob = await registerUser(s.url);
    const anonymous = new Client(s.url);
    await anonymous.post("/v1/auth/login", { username: alice.username, password: "nope nope" });
    await anonymous.post("/v1/auth/login", {
      username: alice.username,
      password: alice.password,
    });
    const conv = (await alice.client.post("/v1/conversations", {
      type: "direct",
      userId: bob.id,
    })).body.id;
    await alice.client.post(`/v1/conversations/${conv}/messages`, {
      clientMsgId: "secret",
      text: "audit-canary message content",
    });
    await alice.client.post("/v1/users/me/password", {
      currentPassword: "not it at all",
      newPassword: NEW_PASSWORD,
    });
    await alice.client.post("/v1/users/me/password", {
      currentPassword: alice.password,
      newPassword: NEW_PASSWORD,
    });
    const archive = await exportReady(alice);
    assert.equal((await downloadArchive(s.url, archive.url)).status, 200);
    await admin.client.patch(`/v1/admin/users/${bob.id}`, { role: "admin" });
    const erased = await alice.client.request("DELETE", "/v1/users/me", {
      password: NEW_PASSWORD,
    });
    assert.equal(erased.status, 204);

    const res = await admin.client.get("/v1/admin/audit?limit=200");
    assert.equal(res.status, 200);
    const entries: any[] = res.body.entries;
    const one = (action: string, actorId: string) => {
      const found = entries.filter((e) => e.action === action && e.actorId === actorId);
      assert.equal(found.length, 1, `one ${action} by ${actorId}: ${JSON.stringify(entries)}`);
      const e = found[0];
      assert.ok(!Number.isNaN(Date.parse(e.at)), "when");
      return e;
    };
    for (
      const action of [
        "login.failed",
        "login.succeeded",
        "password.check_failed",
        "password.changed",
        "data_export.requested",
        "data_export.downloaded",
      ]
    ) {
      const e = one(action, alice.id);
      assert.equal(e.ip, "127.0.0.1", `${action}: from where`);
    }
    assert.equal(one("password.changed", alice.id).details.otherSessionsRevoked, 1);
    assert.equal(one("data_export.requested", alice.id).targetId, archive.id);
    const role = one("user.role_changed", admin.id);
    assert.equal(role.targetId, bob.id);
    assert.deepEqual(role.details, { from: "user", to: "admin" });
    const erasure = one("user.erased", alice.id);
    assert.equal(erasure.targetId, alice.id);
    assert.equal(erasure.ip, "127.0.0.1");
    assert.match(erasure.userAgent, /Deno/);
    assert.deepEqual(Object.keys(erasure.details).sort(), [
      "conversationsLeft",
      "mediaDeleted",
      "messagesErased",
      "reactionsRemoved",
    ]);
    assert.equal(erasure.details.messagesErased, 1);
    assert.equal(erasure.details.conversationsLeft, 1);
    const text = JSON.stringify(entries);
    assert.ok(!text.includes("audit-canary"), "no message content");
    assert.ok(!text.includes("audited_alice_k3"), "no username");
    const filtered = await admin.client.get("/v1/admin/audit?action=user.erased");
    assert.deepEqual(filtered.body.entries.map((e: any) => e.actorId), [alice.id]);
  },
);
