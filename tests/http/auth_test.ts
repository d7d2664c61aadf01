import assert from "node:assert/strict";
import * as jose from "jose";
import {
  assertProblem,
  Client,
  registerUser,
  type Reply,
  serverTest,
  startServer,
} from "../support/server.ts";

/** How many argon2 verifications the server has run, read from `/metrics`. */
async function verifyCount(c: Client): Promise<number> {
  const text = (await c.get("/metrics")).body as string;
  const m = /^parley_password_operations\{op="verify"\} (\d+)$/m.exec(text);
  assert.ok(m, "the password operations gauge is exported");
  return Number(m[1]);
}

function assertRetryAfter(res: Reply): void {
  const retryAfter = res.headers.get("retry-after");
  assert.match(retryAfter ?? "", /^\d+$/, "429 carries a numeric Retry-After");
  assert.ok(Number(retryAfter) >= 1);
}

function assertGrantShape(body: any): void {
  assert.deepEqual(Object.keys(body).sort(), ["accessToken", "expiresIn", "refreshToken", "user"]);
  assert.equal(typeof body.accessToken, "string");
  assert.equal(typeof body.refreshToken, "string");
  assert.notEqual(body.accessToken, body.refreshToken);
  assert.ok(Number.isInteger(body.expiresIn) && body.expiresIn > 0);
  assert.equal(typeof body.user.id, "string");
}

Deno.test({
  name: "register answers 201 with the user and a token pair, storing the username in lower case",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const c = new Client(s.url);
      const res = await c.post("/v1/auth/register", {
        username: "Alice",
        password: "correct horse battery",
      });
      assert.equal(res.status, 201);
      assertGrantShape(res.body);
      assert.equal(res.body.user.username, "alice");
      assert.equal(res.body.user.displayName, "Alice", "displayName defaults to the given name");
      const me = await c.as(res.body.accessToken).get("/v1/users/me");
      assert.equal(me.status, 200);
      assert.equal(me.body.id, res.body.user.id);
      assert.equal(me.body.username, "alice");

      const named = await c.post("/v1/auth/register", {
        username: "bob",
        password: "correct horse battery",
        displayName: "Bob the Builder",
      });
      assert.equal(named.status, 201);
      assert.equal(named.body.user.displayName, "Bob the Builder");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "register answers 409 conflict for a username taken in another case",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const c = new Client(s.url);
      await registerUser(s.url, { username: "alice" });
      const again = await c.post("/v1/auth/register", {
        username: "ALICE",
        password: "another long password",
      });
      assertProblem(again, 409, "conflict");
      assertProblem(
        await c.post("/v1/auth/register", { username: "alice", password: "another password" }),
        409,
        "conflict",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "register rejects bad usernames, passwords and display names with 400 field errors",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const c = new Client(s.url);
      const password = "correct horse battery";
      for (const username of ["ab", "a".repeat(33), "a b", "ünï", "bob!", "", "x".repeat(65)]) {
        const res = await c.post("/v1/auth/register", { username, password });
        assertProblem(res, 400, "validation_failed");
        assert.ok(
          res.body.errors.some((e: { path: string }) => e.path === "username"),
          `username ${JSON.stringify(username)} is refused on the username field`,
        );
      }
      for (const bad of ["short", "1234567", "p".repeat(257)]) {
        const res = await c.post("/v1/auth/register", { username: "carol", password: bad });
        assertProblem(res, 400, "validation_failed");
        assert.ok(res.body.errors.some((e: { path: string }) => e.path === "password"));
      }
      for (const displayName of ["bell\u0007", "two\nlines", "nul\u0000", "   "]) {
        const res = await c.post("/v1/auth/register", { username: "carol", password, displayName });
        assertProblem(res, 400, "validation_failed");
        assert.ok(res.body.errors.some((e: { path: string }) => e.path === "displayName"));
      }
      // The limits are inclusive: exactly 3 and 32 characters, 8 and 256 password characters.
      const edges = [
        { username: "a.b", password: "12345678" },
        { username: "a_".repeat(16), password: "p".repeat(256) },
      ];
      for (const body of edges) assert.equal((await c.post("/v1/auth/register", body)).status, 201);
      // Nothing was created by the refused attempts.
      assertProblem(
        await c.post("/v1/auth/login", { username: "carol", password }),
        401,
        "unauthorized",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "login answers 200 with the register shape and accepts the username in any case",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const u = await registerUser(s.url, { username: "dora" });
      const res = await new Client(s.url).post("/v1/auth/login", {
        username: "DoRa",
        password: u.password,
      });
      assert.equal(res.status, 200);
      assertGrantShape(res.body);
      assert.equal(res.body.user.id, u.id);
      assert.notEqual(res.body.accessToken, u.accessToken, "a new session, new tokens");
      assert.equal((await new Client(s.url, res.body.accessToken).get("/v1/users/me")).status, 200);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "login gives the same 401 for an unknown user and a wrong password, verifying a hash for each",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const c = new Client(s.url);
      const u = await registerUser(s.url, { username: "erin" });

      const before = await verifyCount(c);
      const unknown = await c.post("/v1/auth/login", {
        username: "nobody_here",
        password: "whatever password",
      });
      const afterUnknown = await verifyCount(c);
      const wrong = await c.post("/v1/auth/login", {
        username: u.username,
        password: "whatever password",
      });
      const afterWrong = await verifyCount(c);

      assertProblem(unknown, 401, "unauthorized");
      assertProblem(wrong, 401, "unauthorized");
      const strip = ({ requestId: _r, instance: _i, ...rest }: Record<string, unknown>) => rest;
      assert.deepEqual(strip(unknown.body), strip(wrong.body));
      assert.equal(unknown.headers.get("www-authenticate"), wrong.headers.get("www-authenticate"));
      assert.equal(afterUnknown - before, 1, "an unknown user costs one argon2 verification");
      assert.equal(afterWrong - afterUnknown, 1, "a wrong password costs one argon2 verification");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "failed logins are limited per account: past the limit even the right password gets 429",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ RATE_LOGIN_FAILURES_PER_ACCOUNT: "3" });
    try {
      const c = new Client(s.url);
      const victim = await registerUser(s.url, { username: "victim" });
      const bystander = await registerUser(s.url, { username: "bystander" });
      // The account is the folded username, so case variants count together.
      for (const username of ["victim", "VICTIM", "Victim"]) {
        assertProblem(
          await c.post("/v1/auth/login", { username, password: "wrong password" }),
          401,
          "unauthorized",
        );
      }
      const fourth = await c.post("/v1/auth/login", {
        username: "victim",
        password: "wrong password",
      });
      assertProblem(fourth, 429, "rate_limited");
      assertRetryAfter(fourth);
      const right = await c.post("/v1/auth/login", {
        username: "victim",
        password: victim.password,
      });
      assertProblem(right, 429, "rate_limited");
      assertRetryAfter(right);
      const other = await c.post("/v1/auth/login", {
        username: bystander.username,
        password: bystander.password,
      });
      assert.equal(other.status, 200, "other accounts from the same address still log in");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "failed logins are limited per address across different usernames",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ RATE_LOGIN_FAILURES_PER_IP: "3" });
    try {
      const c = new Client(s.url);
      const u = await registerUser(s.url, { username: "frank" });
      for (const username of ["ghost1", "ghost2", "frank"]) {
        assertProblem(
          await c.post("/v1/auth/login", { username, password: "wrong password" }),
          401,
          "unauthorized",
        );
      }
      const next = await c.post("/v1/auth/login", { username: "ghost4", password: "nope nope" });
      assertProblem(next, 429, "rate_limited");
      assertRetryAfter(next);
      assertProblem(
        await c.post("/v1/auth/login", { username: u.username, password: u.password }),
        429,
        "rate_limited",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a burst of parallel wrong-password logins gets no more guesses than the account limit",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ RATE_LOGIN_FAILURES_PER_ACCOUNT: "3" });
    try {
      const c = new Client(s.url);
      await registerUser(s.url, { username: "victim" });
      const before = await verifyCount(c);
      const replies = await Promise.all(
        Array.from(
          { length: 20 },
          () => c.post("/v1/auth/login", { username: "victim", password: "wrong password" }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      assert.equal(statuses.filter((st) => st === 401).length, 3, statuses.join(","));
      assert.equal(statuses.filter((st) => st === 429).length, 17, statuses.join(","));
      assert.equal(await verifyCount(c) - before, 3, "only three passwords were tried");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a burst of parallel registrations gets no more accounts than the address limit",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ RATE_REGISTRATIONS_PER_IP: "2" });
    try {
      const c = new Client(s.url);
      const replies = await Promise.all(
        Array.from(
          { length: 10 },
          (_, i) =>
            c.post("/v1/auth/register", { username: `burst${i}`, password: "long enough pw" }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      assert.equal(statuses.filter((st) => st === 201).length, 2, statuses.join(","));
      assert.equal(statuses.filter((st) => st === 429).length, 8, statuses.join(","));
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "registrations are limited per address",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ RATE_REGISTRATIONS_PER_IP: "2" });
    try {
      const c = new Client(s.url);
      const password = "correct horse battery";
      assert.equal((await c.post("/v1/auth/register", { username: "reg1", password })).status, 201);
      assert.equal((await c.post("/v1/auth/register", { username: "reg2", password })).status, 201);
      const third = await c.post("/v1/auth/register", { username: "reg3", password });
      assertProblem(third, 429, "rate_limited");
      assertRetryAfter(third);
      // Once limited, a taken name is not revealed either: the limit bounds username probing.
      assertProblem(
        await c.post("/v1/auth/register", { username: "reg1", password }),
        429,
        "rate_limited",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "the development defaults let one address register dozens of users",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      for (let batch = 0; batch < 6; batch++) {
        await Promise.all(
          Array.from(
            { length: 5 },
            (_, i) => registerUser(s.url, { username: `many${batch}_${i}` }),
          ),
        );
      }
      const found = await (await registerUser(s.url)).client.get("/v1/users?q=many&limit=200");
      assert.equal(found.body.users.length, 30);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "refresh returns a new pair whose refresh token works in turn",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "presenting a spent refresh token revokes the whole session",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "refresh answers 401 for an unknown refresh token and 400 for a missing one",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const c = new Client(s.url);
      await registerUser(s.url);
      assertProblem(
        await c.post("/v1/auth/refresh", { refreshToken: "not-a-token-we-issued" }),
        401,
        "unauthorized",
      );
      assertProblem(await c.post("/v1/auth/refresh", {}), 400, "validation_failed");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "logout revokes the current session only: its tokens are refused at once",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
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

Deno.test({
  name:
    "every authenticated route refuses a missing, garbage, foreign-key or alg:none token with 401",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "no log line contains a password or a token",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});
