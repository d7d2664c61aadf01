// Groups: creation, ownership hand-over and transfer, the member limit, and membership changes.
import assert from "node:assert/strict";
import { allEvents, ids, list, pastMillisecond, sendOk } from "../support/conversations.ts";
import {
  assertProblem,
  createGroup,
  registerUsers,
  serverTest,
  type TestUser,
} from "../support/server.ts";

serverTest(
  "creating a group makes the creator owner and rejects bad names and unknown members",
  async (s) => {
    const [owner, x, y] = await registerUsers(s.url, 3);
    const res = await owner.client.post("/v1/conversations", {
      type: "group",
      name: "  Hiking 🥾  ",
      description: "Weekend trips",
      memberIds: [x.id, y.id, x.id, owner.id],
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.type, "group");
    assert.equal(res.body.name, "Hiking 🥾", "trimmed");
    assert.equal(res.body.description, "Weekend trips");
    assert.equal(res.body.myRole, "owner");
    assert.equal(res.body.memberCount, 3, "duplicates and the creator count once");
    assert.equal(res.body.lastSeq, 1);
    assert.equal(res.body.unreadCount, 0);
    assert.deepEqual(res.body.settings, {
      onlyAdminsCanSend: false,
      onlyAdminsCanEditInfo: false,
      membersCanAddMembers: false,
      messageTtlSeconds: null,
      membersCanMentionAll: false,
      slowModeSeconds: 0,
      blockedWords: [],
      public: false,
    });
    assert.equal((await x.client.get(`/v1/conversations/${res.body.id}`)).body.myRole, "member");
    const members = await owner.client.get(`/v1/conversations/${res.body.id}/members`);
    assert.deepEqual(
      members.body.members.map((m: any) => [m.userId, m.role]).sort(),
      [[owner.id, "owner"], [x.id, "member"], [y.id, "member"]].sort(),
    );

    for (const name of ["", "   ", "x".repeat(65)]) {
      const bad = await owner.client.post("/v1/conversations", {
        type: "group",
        name,
        memberIds: [x.id],
      });
      assertProblem(bad, 400, "validation_failed");
      assert.equal(bad.body.errors[0].path, "name", JSON.stringify(name));
    }
    assertProblem(
      await owner.client.post("/v1/conversations", { type: "group", memberIds: [x.id] }),
      400,
      "validation_failed",
    );
    const unknown = await owner.client.post("/v1/conversations", {
      type: "group",
      name: "Ghosts",
      memberIds: [x.id, "0000000000nosuchuser000000"],
    });
    assertProblem(unknown, 400, "validation_failed");
    assert.equal(unknown.body.errors[0].path, "memberIds");
    assert.deepEqual(ids(await list(owner)), [res.body.id], "failed attempts create nothing");
  },
);

serverTest(
  "an owner who leaves hands over to the longest-serving admin, then moderator, then member",
  async (s) => {
    const [owner, oldMember, moderator, olderAdmin, newerAdmin] = await registerUsers(s.url, 5);
    const g = await createGroup(owner, "Succession", [oldMember]);
    const path = `/v1/conversations/${g.id}`;
    let last = g.updatedAt;
    for (const u of [moderator, olderAdmin, newerAdmin]) {
      await pastMillisecond(last);
      const added = await owner.client.post(`${path}/members`, { userIds: [u.id] });
      assert.equal(added.status, 201);
      last = added.body.members[0].joinedAt;
    }
    // Promoted newest first, so promotion order cannot pass for length of service.
    for (
      const [u, role] of [[newerAdmin, "admin"], [olderAdmin, "admin"], [
        moderator,
        "moderator",
      ]] as const
    ) {
      assert.equal((await owner.client.patch(`${path}/members/${u.id}`, { role })).status, 200);
    }

    const steps: Array<[TestUser, TestUser]> = [
      [owner, olderAdmin],
      [olderAdmin, newerAdmin],
      [newerAdmin, moderator],
      [moderator, oldMember],
    ];
    for (const [leaver, heir] of steps) {
      const before = (await heir.client.get(path)).body.lastSeq;
      assert.equal((await leaver.client.delete(`${path}/members/${leaver.id}`)).status, 204);
      assertProblem(await leaver.client.get(path), 404, "not_found");
      assert.equal((await heir.client.get(path)).body.myRole, "owner");
      const [e] = await allEvents(heir, g.id, before);
      assert.equal(e.event, "member.removed");
      assert.equal(e.data.userId, leaver.id);
      assert.deepEqual(e.data.members, [{ userId: heir.id, role: "owner" }]);
    }
    const members = (await oldMember.client.get(`${path}/members`)).body.members;
    assert.deepEqual(members.map((m: any) => [m.userId, m.role]), [[oldMember.id, "owner"]]);

    assert.equal((await oldMember.client.delete(`${path}/members/${oldMember.id}`)).status, 204);
    assertProblem(await oldMember.client.get(path), 404, "not_found");
    assert.deepEqual(await list(oldMember), [], "the last one out deleted the group");
  },
);

serverTest("transferring ownership makes the old owner an admin", async (s) => {
  const [owner, heir, outsider] = await registerUsers(s.url, 3);
  const path = `/v1/conversations/${(await createGroup(owner, "Handover", [heir])).id}`;
  assertProblem(
    await owner.client.post(`${path}/owner`, { userId: outsider.id }),
    400,
    "validation_failed",
  );
  assertProblem(
    await owner.client.post(`${path}/owner`, { userId: owner.id }),
    400,
    "validation_failed",
  );

  const res = await owner.client.post(`${path}/owner`, { userId: heir.id });
  assert.equal(res.status, 200);
  assert.equal(res.body.myRole, "admin");
  assert.equal((await heir.client.get(path)).body.myRole, "owner");
  const members = (await heir.client.get(`${path}/members`)).body.members;
  assert.deepEqual(
    members.map((m: any) => [m.userId, m.role]).sort(),
    [[owner.id, "admin"], [heir.id, "owner"]].sort(),
  );
  const [e] = await allEvents(heir, path.split("/").at(-1)!, 1);
  assert.equal(e.event, "member.updated");
  assert.equal(e.data.message.kind, "system");
  assertProblem(
    await owner.client.post(`${path}/owner`, { userId: owner.id }),
    403,
    "forbidden",
  );
  assertProblem(await owner.client.delete(path), 403, "forbidden");
});

serverTest(
  "a group holds at most GROUP_MEMBER_LIMIT members",
  { env: { GROUP_MEMBER_LIMIT: "3" } },
  async (s) => {
    const [owner, a, b, c] = await registerUsers(s.url, 4);
    const tooMany = await owner.client.post("/v1/conversations", {
      type: "group",
      name: "Crowd",
      memberIds: [a.id, b.id, c.id],
    });
    assertProblem(tooMany, 400, "validation_failed");
    assert.equal(tooMany.body.errors[0].path, "memberIds");

    const full = await createGroup(owner, "Full", [a, b]);
    assert.equal(full.memberCount, 3);
    const over = await owner.client.post(`/v1/conversations/${full.id}/members`, {
      userIds: [c.id],
    });
    assertProblem(over, 409, "conflict");

    const room = await createGroup(owner, "Room for one", [a]);
    const path = `/v1/conversations/${room.id}/members`;
    assert.equal((await owner.client.post(path, { userIds: [b.id] })).status, 201);
    assertProblem(await owner.client.post(path, { userIds: [c.id] }), 409, "conflict");
    assertProblem(await c.client.get(`/v1/conversations/${room.id}`), 404, "not_found");
    assert.equal((await owner.client.get(`/v1/conversations/${room.id}`)).body.memberCount, 3);

    const pair = await createGroup(owner, "Pair", [a]);
    const both = await owner.client.post(`/v1/conversations/${pair.id}/members`, {
      userIds: [b.id, c.id],
    });
    assertProblem(both, 409, "conflict");
    assert.equal(
      (await owner.client.get(`/v1/conversations/${pair.id}`)).body.memberCount,
      2,
      "all or nothing",
    );
  },
);

serverTest("concurrent adds never take a group past GROUP_MEMBER_LIMIT", {
  env: { GROUP_MEMBER_LIMIT: "3" },
}, async (s) => {
  const [owner, first, ...candidates] = await registerUsers(s.url, 7);
  for (let round = 0; round < 3; round++) {
    const g = await createGroup(owner, `Race ${round}`, [first]);
    const path = `/v1/conversations/${g.id}`;
    const results = await Promise.all(
      candidates.map((u) => owner.client.post(`${path}/members`, { userIds: [u.id] })),
    );
    assert.deepEqual(
      results.map((r) => r.status).sort(),
      [201, 409, 409, 409, 409],
      "exactly one add fits",
    );
    for (const r of results.filter((r) => r.status !== 201)) assertProblem(r, 409, "conflict");
    const members = (await owner.client.get(`${path}/members`)).body.members;
    assert.equal(members.length, 3);
    assert.equal((await owner.client.get(path)).body.memberCount, 3);
  }
});

serverTest("a removed member gets 404 for the conversation and no longer lists it", async (s) => {
  const [owner, gone, stays] = await registerUsers(s.url, 3);
  const g = await createGroup(owner, "Club", [gone, stays]);
  const path = `/v1/conversations/${g.id}`;
  await sendOk(gone, g.id, "I was here");
  assert.equal((await owner.client.delete(`${path}/members/${gone.id}`)).status, 204);
  for (
    const res of [
      await gone.client.get(path),
      await gone.client.get(`${path}/messages`),
      await gone.client.get(`${path}/events?after=0`),
      await gone.client.get(`${path}/members`),
      await gone.client.post(`${path}/messages`, { clientMsgId: "again", text: "hello?" }),
    ]
  ) assertProblem(res, 404, "not_found");
  assert.deepEqual(await list(gone), []);
  const members = (await stays.client.get(`${path}/members`)).body.members;
  assert.deepEqual(members.map((m: any) => m.userId).sort(), [owner.id, stays.id].sort());
  assert.equal((await stays.client.get(path)).body.memberCount, 2);
});

serverTest(
  "adding people who are all members already answers 200 with no one added and no event",
  async (s) => {
    const [owner, a] = await registerUsers(s.url, 2);
    const g = await createGroup(owner, "Already", [a]);
    const before = (await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq;
    const again = await owner.client.post(`/v1/conversations/${g.id}/members`, {
      userIds: [a.id],
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.members, []);
    assert.equal((await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq, before);
  },
);
