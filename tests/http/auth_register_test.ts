// Registration: the answer, validation, and the per-address registration limit.
import assert from "node:assert/strict";
import { assertGrantShape, assertRetryAfter } from "../support/auth.ts";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";

serverTest(
  "register answers 201 with the user and a token pair, storing the username in lower case",
  async (s) => {
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
  },
);

serverTest("register answers 409 conflict for a username taken in another case", async (s) => {
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
});

serverTest(
  "register rejects bad usernames, passwords and display names with 400 field errors",
  async (s) => {
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
  },
);

serverTest("a burst of parallel registrations gets no more accounts than the address limit", {
  env: { RATE_REGISTRATIONS_PER_IP: "2" },
}, async (s) => {
  const c = new Client(s.url);
  const replies = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) => c.post("/v1/auth/register", { username: `burst${i}`, password: "long enough pw" }),
    ),
  );
  const statuses = replies.map((r) => r.status);
  assert.equal(statuses.filter((st) => st === 201).length, 2, statuses.join(","));
  assert.equal(statuses.filter((st) => st === 429).length, 8, statuses.join(","));
});

serverTest(
  "registrations are limited per address",
  { env: { RATE_REGISTRATIONS_PER_IP: "2" } },
  async (s) => {
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
  },
);

serverTest("the development defaults let one address register dozens of users", async (s) => {
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
});
