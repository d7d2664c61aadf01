import assert from "node:assert/strict";
import { assertProblem, createGroup, ok, registerUsers, serverTest } from "../support/server.ts";

serverTest("invite links: create, preview, join, list, revoke; who may manage them", async (s) => {
  const [owner, member, joiner, late] = await registerUsers(s.url, 4);
  const g = await createGroup(owner, "Linked", [member], { description: "come in" });
  const invites = `/v1/conversations/${g.id}/invites`;
  assertProblem(await member.client.post(invites, {}), 403, "forbidden");
  const expiresAt = new Date(Date.now() + 3600_000).toISOString();
  const link = ok(await owner.client.post(invites, { expiresAt, maxUses: 5 }), 201).body;
  assert.deepEqual([link.expiresAt, link.maxUses, link.uses], [expiresAt, 5, 0]);
  assert.match(link.code, /^[A-Za-z0-9_-]{16}$/);

  const preview = ok(await joiner.client.get(`/v1/invites/${link.code}`)).body;
  assert.deepEqual(preview.conversation, {
    id: g.id,
    name: "Linked",
    description: "come in",
    avatar: null,
    memberCount: 2,
  });
  const joined = ok(await joiner.client.post(`/v1/invites/${link.code}/join`)).body;
  assert.equal(joined.conversation.id, g.id);
  assert.equal(joined.conversation.myRole, "member");
  const again = ok(await joiner.client.post(`/v1/invites/${link.code}/join`)).body;
  assert.equal(again.conversation.id, g.id, "a member just gets the group");
  const listed = ok(await owner.client.get(invites)).body.invites;
  assert.deepEqual(listed.map((l: any) => [l.code, l.uses]), [[link.code, 1]]);
  const events = ok(await owner.client.get(`/v1/conversations/${g.id}/events?after=0`)).body.events;
  const added = events.find((e: any) => e.event === "member.added");
  assert.equal(added.data.via, "link");
  assert.equal(added.data.message.system.action, "member.joined");

  // Members may manage links when they may add members.
  ok(
    await owner.client.patch(`/v1/conversations/${g.id}`, {
      settings: { membersCanAddMembers: true },
    }),
  );
  const theirs = ok(await member.client.post(invites), 201).body;
  assert.equal(theirs.maxUses, null);
  ok(await member.client.delete(`${invites}/${theirs.code}`), 204);
  assertProblem(await late.client.get(`/v1/invites/${theirs.code}`), 410, "gone");
  assertProblem(await late.client.post(`/v1/invites/${theirs.code}/join`), 410, "gone");
  assertProblem(await member.client.delete(`${invites}/nope`), 404, "not_found");
  assertProblem(await late.client.get("/v1/invites/nope"), 404, "not_found");
  assertProblem(await owner.client.post(invites, { maxUses: 0 }), 400, "validation_failed");
  assertProblem(
    await owner.client.post(invites, { expiresAt: "2001-01-01T00:00:00Z" }),
    400,
    "validation_failed",
  );
  assertProblem(await owner.client.post(invites, { uses: 3 }), 400, "validation_failed");
  assertProblem(await late.client.get(invites), 404, "not_found");
});

serverTest(
  "invite links: concurrent joins never pass maxUses; expired links are gone",
  async (s) => {
    const [owner, ...joiners] = await registerUsers(s.url, 9);
    const g = await createGroup(owner, "Limited", []);
    const link = ok(
      await owner.client.post(`/v1/conversations/${g.id}/invites`, { maxUses: 3 }),
      201,
    ).body;
    const results = await Promise.all(
      joiners.map((u) => u.client.post(`/v1/invites/${link.code}/join`)),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 3);
    for (const r of results.filter((r) => r.status !== 200)) assertProblem(r, 410, "gone");
    const info = ok(await owner.client.get(`/v1/conversations/${g.id}`)).body;
    assert.equal(info.memberCount, 4);
    assert.equal(
      ok(await owner.client.get(`/v1/conversations/${g.id}/invites`)).body.invites[0].uses,
      3,
    );

    // A link past its expiry (written straight to the store: the API refuses past times).
    await s.parley.store.moderation.createInviteLink({
      code: "expired-code-0001",
      conversationId: g.id,
      createdBy: owner.id,
      createdAt: new Date(Date.now() - 7200_000).toISOString(),
      expiresAt: new Date(Date.now() - 3600_000).toISOString(),
      maxUses: null,
      uses: 0,
      revokedAt: null,
    });
    assertProblem(await joiners[7].client.get("/v1/invites/expired-code-0001"), 410, "gone");
    assertProblem(await joiners[7].client.post("/v1/invites/expired-code-0001/join"), 410, "gone");
  },
);

serverTest("public groups: discovered by name (case and accents aside) and joined", async (s) => {
  const [owner, seeker] = await registerUsers(s.url, 2);
  const tag = crypto.randomUUID().slice(0, 8);
  const cafe = await createGroup(owner, `Café ${tag} Lovers`, []);
  const secret = await createGroup(owner, `Cafe ${tag} secret`, []);
  const club = await createGroup(owner, `CAFÉ ${tag} Club`, []);
  for (const g of [cafe, club]) {
    ok(await owner.client.patch(`/v1/conversations/${g.id}`, { settings: { public: true } }));
  }
  const found = ok(await seeker.client.get(`/v1/conversations/discover?q=cafe%20${tag}`)).body;
  assert.deepEqual(found.conversations.map((c: any) => c.id), [club.id, cafe.id]);
  assert.deepEqual(Object.keys(found.conversations[0]).sort(), [
    "avatar",
    "id",
    "memberCount",
    "name",
  ]);
  const first = ok(await seeker.client.get(`/v1/conversations/discover?q=CAFÉ%20${tag}&limit=1`))
    .body;
  assert.deepEqual(first.conversations.map((c: any) => c.id), [club.id]);
  const rest = ok(
    await seeker.client.get(
      `/v1/conversations/discover?q=cafe%20${tag}&limit=1&cursor=${first.nextCursor}`,
    ),
  ).body;
  assert.deepEqual(rest.conversations.map((c: any) => c.id), [cafe.id]);

  const joined = ok(await seeker.client.post(`/v1/conversations/${cafe.id}/join`)).body;
  assert.equal(joined.conversation.memberCount, 2);
  assertProblem(await seeker.client.post(`/v1/conversations/${secret.id}/join`), 404, "not_found");
  assertProblem(await seeker.client.post("/v1/conversations/nope/join"), 404, "not_found");
  const dm =
    ok(await owner.client.post("/v1/conversations", { type: "direct", userId: seeker.id }), 201)
      .body.id;
  assertProblem(
    await owner.client.patch(`/v1/conversations/${dm}`, { settings: { public: true } }),
    403,
    "forbidden",
  );
  ok(await owner.client.patch(`/v1/conversations/${club.id}`, { settings: { public: false } }));
  const after = ok(await seeker.client.get(`/v1/conversations/discover?q=${tag}`)).body;
  assert.deepEqual(after.conversations.map((c: any) => c.id), [cafe.id]);
});
