import assert from "node:assert/strict";
import {
  assertProblem,
  Client,
  registerUser,
  serverTest,
  type TestUser,
} from "../support/server.ts";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Logs `user` in again on a named device; returns that session's tokens and client. */
async function loginOn(base: string, user: TestUser, deviceName?: string) {
  const res = await new Client(base).post("/v1/auth/login", {
    username: user.username,
    password: user.password,
    ...(deviceName === undefined ? {} : { deviceName }),
  });
  assert.equal(res.status, 200);
  return {
    accessToken: res.body.accessToken as string,
    refreshToken: res.body.refreshToken as string,
    client: new Client(base, res.body.accessToken),
  };
}

serverTest(
  "GET /v1/sessions lists the caller's sessions, exactly one current, named by deviceName",
  async (s) => {
    const u = await registerUser(s.url);
    const phone = await loginOn(s.url, u, "Pixel 9");
    await registerUser(s.url); // someone else's sessions never show up

    const res = await phone.client.get("/v1/sessions");
    assert.equal(res.status, 200);
    const sessions = res.body.sessions;
    assert.equal(sessions.length, 2);
    for (const session of sessions) {
      assert.deepEqual(Object.keys(session).sort(), [
        "createdAt",
        "current",
        "deviceName",
        "id",
        "lastSeenAt",
      ]);
      assert.match(session.createdAt, ISO_MS);
      assert.match(session.lastSeenAt, ISO_MS);
    }
    const current = sessions.filter((x: { current: boolean }) => x.current);
    assert.equal(current.length, 1);
    assert.equal(current[0].deviceName, "Pixel 9");
    const first = sessions.find((x: { current: boolean }) => !x.current);
    assert.equal(first.deviceName, null, "registration named no device");

    const fromFirst = await u.client.get("/v1/sessions");
    const mine = fromFirst.body.sessions.filter((x: { current: boolean }) => x.current);
    assert.deepEqual(mine.map((x: { id: string }) => x.id), [first.id], "current is per caller");
  },
);

serverTest("login rejects a deviceName with control characters with 400", async (s) => {
  const u = await registerUser(s.url);
  const res = await new Client(s.url).post("/v1/auth/login", {
    username: u.username,
    password: u.password,
    deviceName: "evil\nlog line",
  });
  assertProblem(res, 400, "validation_failed");
  assert.equal(res.body.errors[0].path, "deviceName");
});

serverTest(
  "DELETE /v1/sessions/:id revokes that session: its tokens are refused and it leaves the list",
  async (s) => {
    const u = await registerUser(s.url);
    const laptop = await loginOn(s.url, u, "Laptop");
    assert.equal((await laptop.client.get("/v1/users/me")).status, 200, "warm the session cache");
    const list = (await u.client.get("/v1/sessions")).body.sessions;
    const target = list.find((x: { deviceName: string | null }) => x.deviceName === "Laptop");

    const del = await u.client.delete(`/v1/sessions/${target.id}`);
    assert.equal(del.status, 204);
    assertProblem(await laptop.client.get("/v1/users/me"), 401, "unauthorized");
    assertProblem(
      await new Client(s.url).post("/v1/auth/refresh", { refreshToken: laptop.refreshToken }),
      401,
      "unauthorized",
    );
    const after = (await u.client.get("/v1/sessions")).body.sessions;
    assert.deepEqual(after.map((x: { id: string }) => x.id), [
      list.find((x: { current: boolean }) => x.current).id,
    ]);
    assert.equal((await u.client.get("/v1/users/me")).status, 200, "the caller stays in");
    assertProblem(await u.client.delete(`/v1/sessions/${target.id}`), 404, "not_found");
  },
);

serverTest("DELETE /v1/sessions/:id can revoke the caller's own current session", async (s) => {
  const u = await registerUser(s.url);
  const mine = (await u.client.get("/v1/sessions")).body.sessions[0];
  assert.equal((await u.client.delete(`/v1/sessions/${mine.id}`)).status, 204);
  assertProblem(await u.client.get("/v1/sessions"), 401, "unauthorized");
});

serverTest(
  "DELETE /v1/sessions/:id answers 404 for another user's session and for an unknown id",
  async (s) => {
    const alice = await registerUser(s.url);
    const mallory = await registerUser(s.url);
    const aliceSession = (await alice.client.get("/v1/sessions")).body.sessions[0];

    assertProblem(
      await mallory.client.delete(`/v1/sessions/${aliceSession.id}`),
      404,
      "not_found",
    );
    assertProblem(await mallory.client.delete("/v1/sessions/no-such-session"), 404, "not_found");
    assert.equal((await alice.client.get("/v1/users/me")).status, 200, "alice is still in");
    assert.equal((await alice.client.get("/v1/sessions")).body.sessions.length, 1);
  },
);
