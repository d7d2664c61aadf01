import assert from "node:assert/strict";
import { maySeeLastSeen } from "../../src/services/presence.ts";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

serverTest(
  "GET /v1/users/me returns the caller's own profile in the contract's shape",
  async (s) => {
    const u = await registerUser(s.url, { username: "Mia", displayName: "Mia M." });
    const me = await u.client.get("/v1/users/me");
    assert.equal(me.status, 200);
    const { createdAt, ...rest } = me.body;
    assert.match(createdAt, ISO_MS);
    assert.deepEqual(rest, {
      id: u.id,
      username: "mia",
      displayName: "Mia M.",
      role: "user",
      presence: "online",
      privacy: {
        lastSeen: "everyone",
        readReceipts: true,
        directMessages: "everyone",
        groupAdds: "everyone",
      },
    }, "optional fields (avatar, statusText, lastSeenAt) are absent, not null");
  },
);

serverTest(
  "PATCH /v1/users/me updates display name, status text, presence and last-seen privacy",
  async (s) => {
    const u = await registerUser(s.url);
    const res = await u.client.patch("/v1/users/me", {
      displayName: "  Zoë 👩🏽‍💻  ",
      statusText: "At the beach",
      presence: "dnd",
      privacy: { lastSeen: "contacts" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.displayName, "Zoë 👩🏽‍💻", "trimmed");
    assert.equal(res.body.statusText, "At the beach");
    assert.equal(res.body.presence, "dnd");
    assert.deepEqual(res.body.privacy, {
      lastSeen: "contacts",
      readReceipts: true,
      directMessages: "everyone",
      groupAdds: "everyone",
    });
    assert.deepEqual((await u.client.get("/v1/users/me")).body, res.body, "it is stored");

    for (const presence of ["online", "away", "dnd", "invisible"]) {
      const r = await u.client.patch("/v1/users/me", { presence });
      assert.equal(r.status, 200);
      assert.equal(r.body.presence, presence);
    }
    for (const lastSeen of ["everyone", "contacts", "nobody"]) {
      const r = await u.client.patch("/v1/users/me", { privacy: { lastSeen } });
      assert.deepEqual(r.body.privacy, {
        lastSeen,
        readReceipts: true,
        directMessages: "everyone",
        groupAdds: "everyone",
      });
    }
    const untouched = await u.client.patch("/v1/users/me", {});
    assert.equal(untouched.status, 200);
    assert.equal(untouched.body.displayName, "Zoë 👩🏽‍💻", "omitted fields stay as they were");
    assert.equal(untouched.body.statusText, "At the beach");
  },
);

serverTest("PATCH /v1/users/me clears the status text with null or an empty string", async (s) => {
  const u = await registerUser(s.url);
  for (const clear of [null, "", "   "]) {
    await u.client.patch("/v1/users/me", { statusText: "busy" });
    const res = await u.client.patch("/v1/users/me", { statusText: clear });
    assert.equal(res.status, 200);
    assert.equal("statusText" in res.body, false, `${JSON.stringify(clear)} clears it`);
    assert.equal("statusText" in (await u.client.get("/v1/users/me")).body, false);
  }
});

serverTest(
  "PATCH /v1/users/me changes the username in lower case and answers 409 when taken in any case",
  async (s) => {
    const a = await registerUser(s.url, { username: "nina" });
    await registerUser(s.url, { username: "oscar" });
    const renamed = await a.client.patch("/v1/users/me", { username: "Nina_2" });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.username, "nina_2");
    const login = await new Client(s.url).post("/v1/auth/login", {
      username: "nina_2",
      password: a.password,
    });
    assert.equal(login.status, 200, "the new name logs in");

    assertProblem(await a.client.patch("/v1/users/me", { username: "OSCAR" }), 409, "conflict");
    assertProblem(await a.client.patch("/v1/users/me", { username: "oscar" }), 409, "conflict");
    assert.equal((await a.client.get("/v1/users/me")).body.username, "nina_2");
    const same = await a.client.patch("/v1/users/me", { username: "NINA_2" });
    assert.equal(same.status, 200, "keeping one's own name is not a conflict");
    const freed = await registerUser(s.url, { username: "nina" });
    assert.equal(freed.username, "nina", "the old name is free again");
  },
);

serverTest(
  "PATCH /v1/users/me rejects invalid values with 400 on the field and changes nothing",
  async (s) => {
    const u = await registerUser(s.url, { displayName: "Original" });
    const before = (await u.client.get("/v1/users/me")).body;
    const cases: Array<[body: unknown, path: string]> = [
      [{ displayName: "" }, "displayName"],
      [{ displayName: "x".repeat(65) }, "displayName"],
      [{ displayName: "tab\there" }, "displayName"],
      [{ username: "a b" }, "username"],
      [{ username: "ab" }, "username"],
      [{ username: "ünï" }, "username"],
      [{ statusText: "line\nbreak" }, "statusText"],
      [{ statusText: "s".repeat(141) }, "statusText"],
      [{ presence: "offline" }, "presence"],
      [{ presence: "busy" }, "presence"],
      [{ privacy: { lastSeen: "friends" } }, "privacy.lastSeen"],
      [{ displayName: 42 }, "displayName"],
    ];
    for (const [body, path] of cases) {
      const res = await u.client.patch("/v1/users/me", body);
      try {
        assertProblem(res, 400, "validation_failed");
        assert.ok(
          res.body.errors.some((e: { path: string }) => e.path === path),
          `errors name ${path}: ${JSON.stringify(res.body.errors)}`,
        );
      } catch (err) {
        throw new Error(`${JSON.stringify(body)}: ${(err as Error).message}`);
      }
    }
    // A valid field next to an invalid one is not applied either.
    const mixed = await u.client.patch("/v1/users/me", {
      displayName: "Partly",
      presence: "offline",
    });
    assertProblem(mixed, 400, "validation_failed");
    assert.deepEqual((await u.client.get("/v1/users/me")).body, before);
  },
);

serverTest(
  "GET /v1/users/:id shows another user offline without a socket, whatever they set",
  async (s) => {
    const owner = await registerUser(s.url, { username: "pia", displayName: "Pia" });
    const viewer = await registerUser(s.url);
    await owner.client.patch("/v1/users/me", { statusText: "hello" });
    for (const presence of ["online", "away", "dnd", "invisible"]) {
      await owner.client.patch("/v1/users/me", { presence });
      const res = await viewer.client.get(`/v1/users/${owner.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        id: owner.id,
        username: "pia",
        displayName: "Pia",
        statusText: "hello",
        presence: "offline",
      }, `set ${presence}: no role, privacy or own presence leaks`);
    }
    const self = await owner.client.get(`/v1/users/${owner.id}`);
    assert.equal(self.body.presence, "offline", "the public view never says invisible");
  },
);

serverTest("GET /v1/users/:id answers 404 for an unknown id", async (s) => {
  const u = await registerUser(s.url);
  assertProblem(await u.client.get("/v1/users/no-such-user"), 404, "not_found");
  assertProblem(await u.client.get(`/v1/users/${"z".repeat(65)}`), 400, "validation_failed");
});

serverTest("lastSeenAt in a public profile follows the owner's last-seen privacy", async (s) => {
  const owner = await registerUser(s.url);
  const stranger = await registerUser(s.url);
  // The realtime layer records lastSeenAt when the last socket closes; stand in for it.
  const at = "2026-01-02T03:04:05.678Z";
  await s.parley.services.presence.wentOffline(owner.id, at);
  const seenBy = async (client: typeof owner.client) =>
    (await client.get(`/v1/users/${owner.id}`)).body.lastSeenAt;

  assert.equal(await seenBy(stranger.client), at, "everyone (the default)");
  assert.equal((await owner.client.get("/v1/users/me")).body.lastSeenAt, at);

  await owner.client.patch("/v1/users/me", { privacy: { lastSeen: "nobody" } });
  assert.equal(await seenBy(stranger.client), undefined, "nobody");
  assert.equal(await seenBy(owner.client), at, "the owner always sees their own");

  await owner.client.patch("/v1/users/me", { privacy: { lastSeen: "contacts" } });
  assert.equal(await seenBy(stranger.client), undefined, "contacts: no shared conversation");

  // An invisible user's last-seen time does not move when they go offline.
  await owner.client.patch("/v1/users/me", { presence: "invisible" });
  await s.parley.services.presence.wentOffline(owner.id, "2026-02-02T00:00:00.000Z");
  assert.equal((await owner.client.get("/v1/users/me")).body.lastSeenAt, at);
});

Deno.test("maySeeLastSeen() admits everyone, contacts only, or nobody, and always the owner", () => {
  // [privacy, viewer is the owner, viewer shares a conversation with the owner] → may see
  const table: Array<[privacy: "everyone" | "contacts" | "nobody", boolean, boolean, boolean]> = [
    ["everyone", false, false, true],
    ["everyone", false, true, true],
    ["everyone", true, false, true],
    ["contacts", false, false, false],
    ["contacts", false, true, true],
    ["contacts", true, false, true],
    ["nobody", false, false, false],
    ["nobody", false, true, false],
    ["nobody", true, false, true],
  ];
  for (const [privacy, self, contact, expected] of table) {
    assert.equal(
      maySeeLastSeen(privacy, self, contact),
      expected,
      `privacy=${privacy} self=${self} contact=${contact}`,
    );
  }
});

serverTest(
  "GET /v1/users?q= finds username and display-name prefixes, case-insensitively",
  async (s) => {
    const searcher = await registerUser(s.url, { username: "zed" });
    const byName = await registerUser(s.url, { username: "quinn_a" });
    const byName2 = await registerUser(s.url, { username: "Quinn_B" });
    const byDisplay = await registerUser(s.url, { username: "rita", displayName: "Quinta" });
    await registerUser(s.url, { username: "xquinn", displayName: "Not Quinn" });

    const ids = async (q: string) => {
      const res = await searcher.client.get(`/v1/users?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200);
      return res.body.users.map((u: { id: string }) => u.id).sort();
    };
    const all = [byName.id, byName2.id, byDisplay.id].sort();
    assert.deepEqual(await ids("quin"), all);
    assert.deepEqual(await ids("QUIN"), all);
    assert.deepEqual(await ids("quinn_"), [byName.id, byName2.id].sort());
    assert.deepEqual(await ids("quinta"), [byDisplay.id]);
    assert.deepEqual(await ids("nobody-matches"), []);
    const found = await searcher.client.get("/v1/users?q=rita");
    assert.deepEqual(found.body.users[0], {
      id: byDisplay.id,
      username: "rita",
      displayName: "Quinta",
      presence: "offline",
    });
  },
);

serverTest("GET /v1/users pages with limit and nextCursor, each match exactly once", async (s) => {
  const searcher = await registerUser(s.url, { username: "zed" });
  const expected: string[] = [];
  for (const name of ["pg_c", "pg_a", "pg_e", "pg_b", "pg_d"]) {
    expected.push((await registerUser(s.url, { username: name })).id);
  }
  const seen: string[] = [];
  const names: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await searcher.client.get(
      `/v1/users?q=pg_&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    assert.equal(res.status, 200);
    assert.ok(res.body.users.length <= 1);
    for (const u of res.body.users) {
      seen.push(u.id);
      names.push(u.username);
    }
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  assert.equal(cursor, undefined, "the last page has no nextCursor");
  assert.deepEqual([...seen].sort(), [...expected].sort());
  assert.equal(new Set(seen).size, seen.length, "no user twice");
  assert.deepEqual(names, ["pg_a", "pg_b", "pg_c", "pg_d", "pg_e"], "ordered by username");
});

serverTest(
  "GET /v1/users answers 400 without q, with an empty q, a bad limit or a bad cursor",
  async (s) => {
    const u = await registerUser(s.url);
    const bad: Array<[query: string, path: string]> = [
      ["", "q"],
      ["?q=", "q"],
      ["?q=%20%20", "q"],
      ["?q=a&limit=0", "limit"],
      ["?q=a&limit=201", "limit"],
      ["?q=a&cursor=not-a-cursor", "cursor"],
      [`?q=a&cursor=${btoa(JSON.stringify({ x: 1 }))}`, "cursor"],
    ];
    for (const [query, path] of bad) {
      const res = await u.client.get(`/v1/users${query}`);
      assertProblem(res, 400, "validation_failed");
      assert.ok(
        res.body.errors.some((e: { path: string }) => e.path === path),
        `${query}: ${JSON.stringify(res.body.errors)}`,
      );
    }
  },
);
