// Tokens after login: refresh rotation and reuse detection, logout, token checks on every
// authenticated route, and no secret in the logs.
import assert from "node:assert/strict";
import * as jose from "jose";
import { assertGrantShape } from "../support/auth.ts";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";

serverTest("refresh returns a new pair whose refresh token works in turn", async (s) => {
  const c = new Client(s.url);
  const u = await registerUser(s.url);
  const first = await c.post("/v1/auth/refresh", { refreshToken: u.refreshToken });
  assert.equal(first.status, 200);
  assertGrantShape(first.body);
  assert.equal(first.body.user.id, u.id);
  assert.notEqual(first.body.accessToken, u.accessToken);
  assert.notEqual(first.body.refreshToken, u.refreshToken);
  assert.equal((await c.as(first.body.accessToken).get("/v1/users/me")).status, 200);
  const second = await c.post("/v1/auth/refresh", { refreshToken: first.body.refreshToken });
  assert.equal(second.status, 200);
  assert.notEqual(second.body.refreshToken, first.body.refreshToken);
  assert.equal((await c.as(second.body.accessToken).get("/v1/users/me")).status, 200);
  // Rotation keeps the same session.
  const sessions = await c.as(second.body.accessToken).get("/v1/sessions");
  assert.equal(sessions.body.sessions.length, 1);
});

serverTest("presenting a spent refresh token revokes the whole session", async (s) => {
  const c = new Client(s.url);
  const u = await registerUser(s.url);
  const other = await c.post("/v1/auth/login", { username: u.username, password: u.password });
  const first = await c.post("/v1/auth/refresh", { refreshToken: u.refreshToken });
  const second = await c.post("/v1/auth/refresh", { refreshToken: first.body.refreshToken });
  assert.equal(second.status, 200);
  // Warm the session cache, so the revocation has to reach it.
  assert.equal((await c.as(second.body.accessToken).get("/v1/users/me")).status, 200);

  assertProblem(
    await c.post("/v1/auth/refresh", { refreshToken: u.refreshToken }),
    401,
    "unauthorized",
  );
  const newest = await c.as(second.body.accessToken).get("/v1/users/me");
  assertProblem(newest, 401, "unauthorized");
  assertProblem(
    await c.post("/v1/auth/refresh", { refreshToken: second.body.refreshToken }),
    401,
    "unauthorized",
  );
  const untouched = await c.as(other.body.accessToken).get("/v1/users/me");
  assert.equal(untouched.status, 200, "the user's other sessions survive");
});

serverTest(
  "refresh answers 401 for an unknown refresh token and 400 for a missing one",
  async (s) => {
    const c = new Client(s.url);
    await registerUser(s.url);
    assertProblem(
      await c.post("/v1/auth/refresh", { refreshToken: "not-a-token-we-issued" }),
      401,
      "unauthorized",
    );
    assertProblem(await c.post("/v1/auth/refresh", {}), 400, "validation_failed");
  },
);

serverTest("logout revokes the current session only: its tokens are refused at once", async (s) => {
  const c = new Client(s.url);
  const u = await registerUser(s.url);
  const other = await c.post("/v1/auth/login", { username: u.username, password: u.password });
  assert.equal((await u.client.get("/v1/users/me")).status, 200, "warm the session cache");

  const out = await u.client.post("/v1/auth/logout");
  assert.equal(out.status, 204);
  assert.equal(out.body, "");
  const after = await u.client.get("/v1/users/me");
  assertProblem(after, 401, "unauthorized");
  assert.match(after.headers.get("www-authenticate") ?? "", /^Bearer /);
  assertProblem(
    await c.post("/v1/auth/refresh", { refreshToken: u.refreshToken }),
    401,
    "unauthorized",
  );
  assertProblem(await u.client.post("/v1/auth/logout"), 401, "unauthorized");
  assert.equal((await c.as(other.body.accessToken).get("/v1/users/me")).status, 200);
});

const PROTECTED: Array<[method: string, path: (id: string) => string, body?: unknown]> = [
  ["POST", () => "/v1/auth/logout", {}],
  ["GET", () => "/v1/users/me"],
  ["PATCH", () => "/v1/users/me", { displayName: "Mallory" }],
  ["GET", () => "/v1/users?q=a"],
  ["GET", (id) => `/v1/users/${id}`],
  ["GET", () => "/v1/sessions"],
  ["DELETE", () => "/v1/sessions/some-session"],
  ["PATCH", (id) => `/v1/admin/users/${id}`, { role: "admin" }],
  ["GET", () => "/v1/admin/audit"],
];

serverTest(
  "every authenticated route refuses a missing, garbage, foreign-key or alg:none token with 401",
  async (s) => {
    const c = new Client(s.url);
    const u = await registerUser(s.url);
    const claims = jose.decodeJwt(u.accessToken);
    const header = jose.decodeProtectedHeader(u.accessToken);
    const jwks = (await c.get("/.well-known/jwks.json")).body;
    assert.equal(header.kid, jwks.keys[0].kid);

    const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" });
    const foreign = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: header.kid, typ: header.typ })
      .sign(privateKey);
    const encode = (v: unknown) => jose.base64url.encode(JSON.stringify(v));
    const unsigned = `${encode({ alg: "none", kid: header.kid, typ: header.typ })}.${
      encode(claims)
    }.`;

    const headers: Record<string, Record<string, string>> = {
      "no token": {},
      "garbage token": { authorization: "Bearer garbage" },
      "not a bearer": { authorization: `Basic ${btoa("user:pass")}` },
      "foreign key, same kid": { authorization: `Bearer ${foreign}` },
      "alg none": { authorization: `Bearer ${unsigned}` },
    };
    for (const [method, path, body] of PROTECTED) {
      for (const [what, h] of Object.entries(headers)) {
        const res = await c.request(method, path(u.id), body, h);
        try {
          assertProblem(res, 401, "unauthorized");
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
        } catch (err) {
          throw new Error(`${method} ${path(u.id)} with ${what}: ${(err as Error).message}`);
        }
      }
    }
    // The genuine token with the same claims is accepted, so the refusals are about the signature.
    assert.equal((await u.client.get("/v1/users/me")).status, 200);
  },
);

serverTest("no log line contains a password or a token", async (s) => {
  const c = new Client(s.url);
  const u = await registerUser(s.url, { password: "hunter2-but-longer" });
  const wrongPassword = "a-wrong-password-123";
  await c.post("/v1/auth/login", { username: u.username, password: wrongPassword });
  await c.post("/v1/auth/login", { username: "no_such_user", password: wrongPassword });
  const login = await c.post("/v1/auth/login", {
    username: u.username,
    password: u.password,
    deviceName: "Laptop",
  });
  const refreshed = await c.post("/v1/auth/refresh", { refreshToken: login.body.refreshToken });
  await c.post("/v1/auth/refresh", { refreshToken: login.body.refreshToken }); // reuse
  await c.post("/v1/auth/register", { username: "secretive", password: "short" });
  await c.get("/v1/users/me", { authorization: "Bearer garbage.token.value" });
  await u.client.patch("/v1/users/me", { displayName: "Renamed" });
  await u.client.post("/v1/auth/logout");

  const secrets = [
    u.password,
    wrongPassword,
    u.accessToken,
    u.refreshToken,
    login.body.accessToken,
    login.body.refreshToken,
    refreshed.body.accessToken,
    refreshed.body.refreshToken,
    "garbage.token.value",
  ];
  assert.ok(s.logs.some((l) => JSON.parse(l)["http.route"] === "/v1/auth/login"));
  for (const line of s.logs) {
    for (const secret of secrets) {
      assert.ok(!line.includes(secret), `a log line contains a secret: ${line}`);
    }
  }
});
