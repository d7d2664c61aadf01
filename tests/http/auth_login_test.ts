// Login: the answer, failures that look alike, and the failed-login limits per account and address.
import assert from "node:assert/strict";
import { assertGrantShape, assertRetryAfter } from "../support/auth.ts";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";

/** How many argon2 verifications the server has run, read from `/metrics`. */
async function verifyCount(c: Client): Promise<number> {
  const text = (await c.get("/metrics")).body as string;
  const m = /^parley_password_operations\{op="verify"\} (\d+)$/m.exec(text);
  assert.ok(m, "the password operations gauge is exported");
  return Number(m[1]);
}

serverTest(
  "login answers 200 with the register shape and accepts the username in any case",
  async (s) => {
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
  },
);

serverTest(
  "login gives the same 401 for an unknown user and a wrong password, verifying a hash for each",
  async (s) => {
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
  },
);

serverTest(
  "failed logins are limited per account: past the limit even the right password gets 429",
  { env: { RATE_LOGIN_FAILURES_PER_ACCOUNT: "3" } },
  async (s) => {
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
  },
);

serverTest("failed logins are limited per address across different usernames", {
  env: { RATE_LOGIN_FAILURES_PER_IP: "3" },
}, async (s) => {
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
});

serverTest(
  "a burst of parallel wrong-password logins gets no more guesses than the account limit",
  { env: { RATE_LOGIN_FAILURES_PER_ACCOUNT: "3" } },
  async (s) => {
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
  },
);
