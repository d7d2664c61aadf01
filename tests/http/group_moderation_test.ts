import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

function post(u: TestUser, conv: string, body: Record<string, unknown>) {
  return u.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: crypto.randomUUID(),
    ...body,
  });
}

async function promote(owner: TestUser, conv: string, u: TestUser, role: string) {
  ok(await owner.client.patch(`/v1/conversations/${conv}/members/${u.id}`, { role }));
}

serverTest(
  "reach privacy: adds become invitations the user accepts or declines; DMs refused",
  async (s) => {
    const [owner, shy, closed, friend] = await registerUsers(s.url, 4);
    ok(await shy.client.patch("/v1/users/me", { privacy: { groupAdds: "contacts" } }));
    ok(
      await closed.client.patch("/v1/users/me", {
        privacy: { groupAdds: "nobody", directMessages: "nobody" },
      }),
    );
    const me = ok(await shy.client.get("/v1/users/me")).body;
    assert.deepEqual(me.privacy, {
      lastSeen: "everyone",
      readReceipts: true,
      directMessages: "everyone",
      groupAdds: "contacts",
    });
    const shySock = await WsClient.connect(s.url, shy.accessToken);

    const g = await createGroup(owner, "Club", [friend]);
    const res = ok(
      await owner.client.post(`/v1/conversations/${g.id}/members`, {
        userIds: [shy.id, closed.id],
      }),
      202,
    );
    assert.deepEqual(res.body.added, []);
    assert.deepEqual(res.body.invited.sort(), [shy.id, closed.id].sort());
    const heard = await shySock.next((f) => f.event === "invitation.created");
    assert.equal(heard.data.conversation.id, g.id);
    assert.equal(heard.data.inviterId, owner.id);

    const invitations = ok(await shy.client.get("/v1/invitations")).body.invitations;
    assert.equal(invitations.length, 1);
    assertProblem(
      await owner.client.post(`/v1/invitations/${invitations[0].id}/accept`),
      404,
      "not_found",
    );
    const joined = ok(await shy.client.post(`/v1/invitations/${invitations[0].id}/accept`)).body;
    assert.equal(joined.conversation.id, g.id);
    assert.equal(joined.conversation.myRole, "member");
    assertProblem(
      await shy.client.post(`/v1/invitations/${invitations[0].id}/accept`),
      404,
      "not_found",
    );
    const closedInv = ok(await closed.client.get("/v1/invitations")).body.invitations[0];
    ok(await closed.client.post(`/v1/invitations/${closedInv.id}/decline`), 204);
    assert.deepEqual(ok(await closed.client.get("/v1/invitations")).body.invitations, []);
    const members = ok(await owner.client.get(`/v1/conversations/${g.id}/members`)).body.members;
    assert.deepEqual(
      members.map((m: any) => m.userId).sort(),
      [owner.id, friend.id, shy.id].sort(),
    );

    // Now owner and shy share a group: "contacts" admits a direct add.
    const second = await createGroup(owner, "Second", [shy]);
    assert.equal(second.invited, undefined);
    assert.equal(second.memberCount, 2);
    const third = ok(
      await owner.client.post("/v1/conversations", {
        type: "group",
        name: "Third",
        memberIds: [closed.id],
      }),
      201,
    ).body;
    assert.deepEqual(third.invited, [closed.id], "created, and the user invited");
    assert.equal(third.memberCount, 1);

    assertProblem(
      await owner.client.post("/v1/conversations", { type: "direct", userId: closed.id }),
      403,
      "forbidden",
    );
    ok(await friend.client.patch("/v1/users/me", { privacy: { directMessages: "contacts" } }));
    const [stranger] = await registerUsers(s.url, 1);
    assertProblem(
      await stranger.client.post("/v1/conversations", { type: "direct", userId: friend.id }),
      403,
      "forbidden",
    );
    ok(
      await owner.client.post("/v1/conversations", { type: "direct", userId: friend.id }),
      201,
    );
    assertProblem(
      await owner.client.patch("/v1/users/me", { privacy: { groupAdds: "friends" } }),
      400,
      "validation_failed",
    );
    await shySock.close();
  },
);

serverTest(
  "bans: a moderator bans a member; add, invite link, invitation and public join are refused",
  async (s) => {
    const [owner, admin, mod, member, victim] = await registerUsers(s.url, 5);
    const g = await createGroup(owner, "Banning", [admin, mod, member, victim]);
    await promote(owner, g.id, admin, "admin");
    await promote(owner, g.id, mod, "moderator");
    const bans = `/v1/conversations/${g.id}/bans`;

    assertProblem(await mod.client.put(`${bans}/${admin.id}`, {}), 403, "forbidden");
    assertProblem(await member.client.put(`${bans}/${victim.id}`, {}), 403, "forbidden");
    const ban = ok(await mod.client.put(`${bans}/${victim.id}`, { reason: "spam links" })).body;
    assert.deepEqual([ban.userId, ban.bannedBy, ban.until], [victim.id, mod.id, null]);
    assertProblem(await victim.client.get(`/v1/conversations/${g.id}`), 404, "not_found");
    const listed = ok(await mod.client.get(bans)).body.bans;
    assert.deepEqual(listed.map((b: any) => [b.userId, b.reason]), [[victim.id, "spam links"]]);
    assertProblem(await member.client.get(bans), 403, "forbidden");

    assertProblem(
      await owner.client.post(`/v1/conversations/${g.id}/members`, { userIds: [victim.id] }),
      403,
      "banned",
    );
    const link = ok(await admin.client.post(`/v1/conversations/${g.id}/invites`, {}), 201).body;
    assertProblem(await victim.client.post(`/v1/invites/${link.code}/join`), 403, "banned");
    ok(await owner.client.patch(`/v1/conversations/${g.id}`, { settings: { public: true } }));
    assertProblem(await victim.client.post(`/v1/conversations/${g.id}/join`), 403, "banned");
    ok(await victim.client.patch("/v1/users/me", { privacy: { groupAdds: "nobody" } }));
    assertProblem(
      await owner.client.post(`/v1/conversations/${g.id}/members`, { userIds: [victim.id] }),
      403,
      "banned",
    );

    ok(await mod.client.delete(`${bans}/${victim.id}`), 204);
    assert.deepEqual(ok(await mod.client.get(bans)).body.bans, []);
    ok(await victim.client.post(`/v1/conversations/${g.id}/join`));

    // A ban ahead of time, of someone not in the group, with an end.
    const [outsider] = await registerUsers(s.url, 1);
    const until = new Date(Date.now() + 3600_000).toISOString();
    ok(await mod.client.put(`${bans}/${outsider.id}`, { until }));
    assertProblem(await outsider.client.post(`/v1/conversations/${g.id}/join`), 403, "banned");
    assertProblem(
      await mod.client.put(`${bans}/${outsider.id}`, { until: "yesterday" }),
      400,
      "validation_failed",
    );
    assertProblem(
      await mod.client.put(`${bans}/${outsider.id}`, { bogus: 1 }),
      400,
      "validation_failed",
    );
    assertProblem(await mod.client.put(`${bans}/nobody`, {}), 400, "validation_failed");
  },
);

serverTest("timed mutes: a muted member cannot send over REST or the socket", async (s) => {
  const [owner, mod, member] = await registerUsers(s.url, 3);
  const g = await createGroup(owner, "Muting", [mod, member]);
  await promote(owner, g.id, mod, "moderator");
  const path = `/v1/conversations/${g.id}/members`;
  const until = new Date(Date.now() + 3600_000).toISOString();
  assertProblem(
    await member.client.patch(`${path}/${mod.id}`, { mutedUntil: until }),
    403,
    "forbidden",
  );
  assertProblem(
    await mod.client.patch(`${path}/${owner.id}`, { mutedUntil: until }),
    403,
    "forbidden",
  );
  const muted = ok(await mod.client.patch(`${path}/${member.id}`, { mutedUntil: until })).body;
  assert.equal(muted.mutedUntil, until);
  const listed = ok(await owner.client.get(path)).body.members.find((m: any) =>
    m.userId === member.id
  );
  assert.equal(listed.mutedUntil, until);

  const res = await post(member, g.id, { text: "let me speak" });
  assertProblem(res, 403, "muted");
  assert.ok(res.body.detail.includes(until));
  const sock = await WsClient.connect(s.url, member.accessToken);
  const ack = await sock.request({
    type: "message.send",
    conversationId: g.id,
    clientMsgId: "socket-try",
    text: "over the socket",
  });
  assert.equal(ack.ok, false);
  assert.equal(ack.error.code, "muted");
  await sendMessage(mod, g.id, { text: "moderators still talk" });

  ok(await mod.client.patch(`${path}/${member.id}`, { mutedUntil: null }));
  await sendMessage(member, g.id, { text: "thanks" });
  assertProblem(
    await mod.client.patch(`${path}/${member.id}`, { mutedUntil: "2001-01-01T00:00:00Z" }),
    400,
    "validation_failed",
  );
  assertProblem(await mod.client.patch(`${path}/${member.id}`, {}), 400, "validation_failed");
  await sock.close();
});

serverTest(
  "slow mode: of concurrent sends over REST and the socket exactly one passes per interval",
  async (s) => {
    const [owner, mod, member] = await registerUsers(s.url, 3);
    const g = await createGroup(owner, "Slow", [mod, member]);
    await promote(owner, g.id, mod, "moderator");
    assertProblem(
      await owner.client.patch(`/v1/conversations/${g.id}`, {
        settings: { slowModeSeconds: 3601 },
      }),
      400,
      "validation_failed",
    );
    ok(
      await owner.client.patch(`/v1/conversations/${g.id}`, { settings: { slowModeSeconds: 60 } }),
    );

    const sock = await WsClient.connect(s.url, member.accessToken);
    const rest = Array.from({ length: 6 }, (_, i) => post(member, g.id, { text: `rest ${i}` }));
    const socket = Array.from({ length: 4 }, (_, i) =>
      sock.request({
        type: "message.send",
        conversationId: g.id,
        clientMsgId: `sock-${i}`,
        text: `socket ${i}`,
      }));
    const [restResults, socketAcks] = await Promise.all([Promise.all(rest), Promise.all(socket)]);
    const passed = restResults.filter((r) => r.status === 201).length +
      socketAcks.filter((a) => a.ok).length;
    assert.equal(passed, 1, "exactly one send in the interval");
    for (const r of restResults.filter((r) => r.status !== 201)) {
      assertProblem(r, 429, "slow_mode");
      const retry = Number(r.headers.get("retry-after"));
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    }
    for (const a of socketAcks.filter((a) => !a.ok)) assert.equal(a.error.code, "slow_mode");

    // Moderators and up are not slowed down.
    await sendMessage(mod, g.id, { text: "one" });
    await sendMessage(mod, g.id, { text: "two" });
    ok(await owner.client.patch(`/v1/conversations/${g.id}`, { settings: { slowModeSeconds: 0 } }));
    await sendMessage(member, g.id, { text: "free again" });
    await sock.close();
  },
);

serverTest(
  "blocked words: conversation and site lists, case- and accent-insensitive whole words",
  async (s) => {
    const [owner, member, admin] = await registerUsers(s.url, 3);
    await s.parley.store.accounts.updateUser(admin.id, { role: "admin" });
    const g = await createGroup(owner, "Clean", [member]);
    assertProblem(
      await member.client.patch(`/v1/conversations/${g.id}`, {
        settings: { blockedWords: ["x"] },
      }),
      403,
      "forbidden",
    );
    const set = ok(
      await owner.client.patch(`/v1/conversations/${g.id}`, {
        settings: { blockedWords: ["Crème", "bad word", " crème "] },
      }),
    ).body;
    assert.deepEqual(set.settings.blockedWords, ["Crème", "bad word"], "trimmed and distinct");

    for (const text of ["CREME brulee", "some crème!", "a BAD, word", "Bad Word"]) {
      assertProblem(await post(member, g.id, { text }), 422, "content_blocked");
    }
    for (const text of ["cremes are fine", "badword", "bad words"]) {
      ok(await post(member, g.id, { text }), 201);
    }
    const poll = await post(member, g.id, { poll: { question: "Crème?", options: ["yes", "no"] } });
    assertProblem(poll, 422, "content_blocked");
    const m = await sendMessage(member, g.id, { text: "nice" });
    assertProblem(
      await member.client.patch(`/v1/conversations/${g.id}/messages/${m.id}`, { text: "crème" }),
      422,
      "content_blocked",
    );

    // The site list applies everywhere, to admins too.
    assertProblem(
      await member.client.put("/v1/admin/blocked-words", { words: ["spam"] }),
      403,
      "forbidden",
    );
    const words = ok(await admin.client.put("/v1/admin/blocked-words", { words: ["Späm"] }))
      .body.words;
    assert.deepEqual(words, ["Späm"]);
    assert.deepEqual(ok(await admin.client.get("/v1/admin/blocked-words")).body.words, ["Späm"]);
    const dm = ok(
      await owner.client.post("/v1/conversations", { type: "direct", userId: member.id }),
      201,
    ).body.id;
    assertProblem(await post(owner, dm, { text: "buy SPAM now" }), 422, "content_blocked");
    assertProblem(
      await admin.client.put("/v1/admin/blocked-words", { words: ["!!!"] }),
      400,
      "validation_failed",
    );
    ok(await admin.client.put("/v1/admin/blocked-words", { words: [] }));
    ok(await post(owner, dm, { text: "buy SPAM now" }), 201);
  },
);
