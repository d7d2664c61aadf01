// A black-box walk of the contract's permission matrix (shared/API.md, "Conversations and groups"):
// every actor role × action × target role against a real server. The expectation is written from the
// contract table here, independently of src/domain/permissions.ts.
import assert from "node:assert/strict";
import {
  assertProblem,
  registerUser,
  type Reply,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";

type Role = "owner" | "admin" | "moderator" | "member";

const RANK: Record<Role, number> = { owner: 4, admin: 3, moderator: 2, member: 1 };
const ROLES: Role[] = ["owner", "admin", "moderator", "member"];
const THUMBS_UP = "%F0%9F%91%8D";

/** The contract: `least` or above, and (for actions on another member) ranked above the target. */
function allowed(actor: Role, least: Role, target?: Role): boolean {
  return RANK[actor] >= RANK[least] && (target === undefined || RANK[actor] > RANK[target]);
}

/** Users for every role (two of each but owner, so peers can meet) and outsiders. */
interface Cast {
  owner: TestUser;
  admin: TestUser[];
  moderator: TestUser[];
  member: TestUser[];
  outsiders: TestUser[];
}

async function makeCast(s: TestServer): Promise<Cast> {
  const users = await Promise.all(Array.from({ length: 10 }, () => registerUser(s.url)));
  return {
    owner: users[0],
    admin: users.slice(1, 3),
    moderator: users.slice(3, 5),
    member: users.slice(5, 7),
    outsiders: users.slice(7),
  };
}

function holders(cast: Cast, role: Role): TestUser[] {
  return role === "owner" ? [cast.owner] : cast[role];
}

function actorOf(cast: Cast, role: Role): TestUser {
  return holders(cast, role)[0];
}

/** A member with `targetRole` who is not the actor; none when that would be the actor itself. */
function targetOf(cast: Cast, actorRole: Role, targetRole: Role): TestUser | undefined {
  return holders(cast, targetRole).find((u) => u !== actorOf(cast, actorRole));
}

/** Every (actor role, target role) pair that names two different members. */
function pairs(cast: Cast): Array<[Role, Role, TestUser, TestUser]> {
  return ROLES.flatMap((a) =>
    ROLES.flatMap((t) => {
      const target = targetOf(cast, a, t);
      return target ? [[a, t, actorOf(cast, a), target] as [Role, Role, TestUser, TestUser]] : [];
    })
  );
}

/** A fresh group with the whole cast but the outsiders, roles set by the owner through the API. */
async function freshGroup(
  cast: Cast,
  settings?: Record<string, boolean>,
): Promise<string> {
  const o = cast.owner.client;
  const created = await o.post("/v1/conversations", {
    type: "group",
    name: "Matrix",
    memberIds: [...cast.admin, ...cast.moderator, ...cast.member].map((u) => u.id),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  const promotions = await Promise.all(
    (["admin", "moderator"] as const).flatMap((role) =>
      cast[role].map((u) => o.patch(`/v1/conversations/${id}/members/${u.id}`, { role }))
    ),
  );
  for (const p of promotions) assert.equal(p.status, 200, JSON.stringify(p.body));
  if (settings) {
    const patched = await o.patch(`/v1/conversations/${id}`, { settings });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
  }
  return id;
}

/** Collects every cell that disagrees with the contract, so one run reports them all. */
class Matrix {
  readonly mismatches: string[] = [];

  /** Records whether `res` is `okStatus` (allowed) or a 403 `forbidden` problem (not allowed). */
  check(label: string, res: Reply, isAllowed: boolean, okStatus: number): void {
    if (isAllowed) {
      if (res.status !== okStatus) {
        this.mismatches.push(
          `${label}: expected ${okStatus}, got ${res.status} ${JSON.stringify(res.body)}`,
        );
      }
      return;
    }
    try {
      assertProblem(res, 403, "forbidden");
    } catch (err) {
      this.mismatches.push(`${label}: ${(err as Error).message}`);
    }
  }

  assertClean(): void {
    assert.deepEqual(this.mismatches, []);
  }
}

async function send(user: TestUser, id: string, text = "hello"): Promise<Reply> {
  return await user.client.post(`/v1/conversations/${id}/messages`, {
    clientMsgId: crypto.randomUUID(),
    text,
  });
}

serverTest(
  "every role may send, react and leave; onlyAdminsCanSend limits sending to admins and up",
  async (s) => {
    const cast = await makeCast(s);
    const m = new Matrix();
    for (const onlyAdminsCanSend of [false, true]) {
      const id = await freshGroup(cast, { onlyAdminsCanSend });
      const first = await send(cast.owner, id, "react to me");
      assert.equal(first.status, 201);
      for (const role of ROLES) {
        const label = `${role} (onlyAdminsCanSend=${onlyAdminsCanSend})`;
        const actor = actorOf(cast, role);
        const least = onlyAdminsCanSend ? "admin" : "member";
        m.check(`${label} send`, await send(actor, id), allowed(role, least), 201);
        const reacted = await actor.client.put(
          `/v1/conversations/${id}/messages/${first.body.message.id}/reactions/${THUMBS_UP}`,
        );
        m.check(`${label} react`, reacted, allowed(role, "member"), 200);
      }
      const history = await cast.owner.client.get(`/v1/conversations/${id}/messages`);
      const texts = history.body.messages.filter((x: any) => x.kind === "text");
      assert.equal(texts.length, onlyAdminsCanSend ? 3 : 5, "refused sends store nothing");
      assert.deepEqual(texts[0].reactions, [{ emoji: "👍", count: 4, me: true }]);
    }
    for (const role of ROLES) {
      const id = await freshGroup(cast);
      const actor = actorOf(cast, role);
      const left = await actor.client.delete(`/v1/conversations/${id}/members/${actor.id}`);
      m.check(`${role} leave`, left, allowed(role, "member"), 204);
      assertProblem(await actor.client.get(`/v1/conversations/${id}`), 404, "not_found");
    }
    m.assertClean();
  },
);

serverTest(
  "adding members takes a moderator, or any member when membersCanAddMembers is on",
  async (s) => {
    const cast = await makeCast(s);
    const m = new Matrix();
    const newcomer = cast.outsiders[0];
    for (const membersCanAddMembers of [false, true]) {
      for (const role of ROLES) {
        const id = await freshGroup(cast, { membersCanAddMembers });
        const res = await actorOf(cast, role).client.post(`/v1/conversations/${id}/members`, {
          userIds: [newcomer.id],
        });
        const ok = allowed(role, membersCanAddMembers ? "member" : "moderator");
        m.check(`${role} add (membersCanAddMembers=${membersCanAddMembers})`, res, ok, 201);
        const seen = await newcomer.client.get(`/v1/conversations/${id}`);
        assert.equal(seen.status, ok ? 200 : 404, `${role}: the newcomer is in only if allowed`);
        if (ok) assert.equal(res.body.members[0].userId, newcomer.id);
      }
    }
    m.assertClean();
  },
);

serverTest(
  "removing a member takes a moderator and works only on members ranked below",
  async (s) => {
    const cast = await makeCast(s);
    const m = new Matrix();
    for (const [actorRole, targetRole, actor, target] of pairs(cast)) {
      const id = await freshGroup(cast);
      const res = await actor.client.delete(`/v1/conversations/${id}/members/${target.id}`);
      const ok = allowed(actorRole, "moderator", targetRole);
      m.check(`${actorRole} removes ${targetRole}`, res, ok, 204);
      const seen = await target.client.get(`/v1/conversations/${id}`);
      assert.equal(seen.status, ok ? 404 : 200, `${actorRole} removes ${targetRole}`);
    }
    const id = await freshGroup(cast);
    assertProblem(
      await cast.owner.client.delete(`/v1/conversations/${id}/members/${cast.outsiders[0].id}`),
      404,
      "not_found",
    );
    m.assertClean();
  },
);

serverTest(
  "deleting another's message for everyone takes a moderator ranked above its author",
  async (s) => {
    const cast = await makeCast(s);
    const m = new Matrix();
    const id = await freshGroup(cast);
    for (const [actorRole, targetRole, actor, author] of pairs(cast)) {
      const sent = await send(author, id, `by a ${targetRole}`);
      assert.equal(sent.status, 201);
      const mid = sent.body.message.id;
      const res = await actor.client.delete(
        `/v1/conversations/${id}/messages/${mid}?for=everyone`,
      );
      const ok = allowed(actorRole, "moderator", targetRole);
      m.check(`${actorRole} deletes a ${targetRole}'s message`, res, ok, 204);
      const page = await author.client.get(
        `/v1/conversations/${id}/messages?after=${sent.body.message.seq - 1}&limit=1`,
      );
      const after = page.body.messages[0];
      assert.equal(after.id, mid);
      assert.equal(typeof after.deletedAt === "string", ok, "a tombstone only if allowed");
      assert.equal(after.text, ok ? undefined : `by a ${targetRole}`);
    }
    m.assertClean();
  },
);

serverTest("editing name, description and settings takes an admin", async (s) => {
  const cast = await makeCast(s);
  const m = new Matrix();
  const id = await freshGroup(cast);
  for (const role of ROLES) {
    const client = actorOf(cast, role).client;
    const ok = allowed(role, "admin");
    const path = `/v1/conversations/${id}`;
    const name = await client.patch(path, { name: `Renamed by ${role}` });
    m.check(`${role} renames`, name, ok, 200);
    if (ok) assert.equal(name.body.name, `Renamed by ${role}`);
    const description = await client.patch(path, { description: `About, by ${role}` });
    m.check(`${role} describes`, description, ok, 200);
    const settings = await client.patch(path, {
      settings: { onlyAdminsCanEditInfo: role !== "owner" },
    });
    m.check(`${role} changes settings`, settings, ok, 200);
  }
  const final = (await cast.owner.client.get(`/v1/conversations/${id}`)).body;
  assert.equal(final.name, "Renamed by admin", "the member and moderator changed nothing");
  assert.equal(final.description, "About, by admin");
  assert.equal(final.settings.onlyAdminsCanEditInfo, true);
  m.assertClean();
});

serverTest("setting roles up to moderator takes an admin ranked above the target", async (s) => {
  const cast = await makeCast(s);
  const m = new Matrix();
  for (const [actorRole, targetRole, actor, target] of pairs(cast)) {
    const id = await freshGroup(cast);
    const role = targetRole === "member" ? "moderator" : "member";
    const res = await actor.client.patch(`/v1/conversations/${id}/members/${target.id}`, {
      role,
    });
    const ok = allowed(actorRole, "admin", targetRole);
    m.check(`${actorRole} sets a ${targetRole} to ${role}`, res, ok, 200);
    const now = (await target.client.get(`/v1/conversations/${id}`)).body.myRole;
    assert.equal(now, ok ? role : targetRole, `${actorRole} sets a ${targetRole} to ${role}`);
  }
  m.assertClean();
});

serverTest("making an admin takes the owner", async (s) => {
  const cast = await makeCast(s);
  const m = new Matrix();
  for (const [actorRole, targetRole, actor, target] of pairs(cast)) {
    const id = await freshGroup(cast);
    const res = await actor.client.patch(`/v1/conversations/${id}/members/${target.id}`, {
      role: "admin",
    });
    const ok = allowed(actorRole, "owner", targetRole);
    m.check(`${actorRole} makes a ${targetRole} admin`, res, ok, 200);
    const now = (await target.client.get(`/v1/conversations/${id}`)).body.myRole;
    assert.equal(now, ok ? "admin" : targetRole, `${actorRole} makes a ${targetRole} admin`);
  }
  m.assertClean();
});

serverTest("transferring ownership and deleting the group take the owner", async (s) => {
  const cast = await makeCast(s);
  const m = new Matrix();
  for (const [actorRole, targetRole, actor, target] of pairs(cast)) {
    const id = await freshGroup(cast);
    const res = await actor.client.post(`/v1/conversations/${id}/owner`, {
      userId: target.id,
    });
    const ok = allowed(actorRole, "owner");
    m.check(`${actorRole} hands ownership to a ${targetRole}`, res, ok, 200);
    const now = (await target.client.get(`/v1/conversations/${id}`)).body.myRole;
    assert.equal(now, ok ? "owner" : targetRole);
  }
  for (const role of ROLES) {
    const id = await freshGroup(cast);
    const res = await actorOf(cast, role).client.delete(`/v1/conversations/${id}`);
    const ok = allowed(role, "owner");
    m.check(`${role} deletes the group`, res, ok, 204);
    const seen = await cast.member[1].client.get(`/v1/conversations/${id}`);
    assert.equal(seen.status, ok ? 404 : 200, `${role} deletes the group`);
  }
  m.assertClean();
});

serverTest("non-members get 404 not_found for a conversation and everything in it", async (s) => {
  const cast = await makeCast(s);
  const group = await freshGroup(cast);
  const direct = await cast.owner.client.post("/v1/conversations", {
    type: "direct",
    userId: cast.member[0].id,
  });
  assert.equal(direct.status, 201);
  const outsider = cast.outsiders[0].client;
  for (const id of [group, direct.body.id, "no-such-conversation"]) {
    const message = await send(cast.owner, id);
    const mid = message.body.message?.id ?? "no-such-message";
    const c = `/v1/conversations/${id}`;
    const attempts: Array<[string, Promise<Reply>]> = [
      ["GET conversation", outsider.get(c)],
      ["PATCH conversation", outsider.patch(c, { name: "Mine now" })],
      ["DELETE conversation", outsider.delete(c)],
      ["GET members", outsider.get(`${c}/members`)],
      ["POST members", outsider.post(`${c}/members`, { userIds: [cast.outsiders[1].id] })],
      ["DELETE member", outsider.delete(`${c}/members/${cast.member[0].id}`)],
      ["PATCH member", outsider.patch(`${c}/members/${cast.member[0].id}`, { role: "admin" })],
      ["POST owner", outsider.post(`${c}/owner`, { userId: cast.outsiders[0].id })],
      ["PUT me", outsider.put(`${c}/me`, { archived: true })],
      ["GET messages", outsider.get(`${c}/messages`)],
      ["POST messages", send(cast.outsiders[0], id)],
      ["DELETE message", outsider.delete(`${c}/messages/${mid}?for=everyone`)],
      ["PUT reaction", outsider.put(`${c}/messages/${mid}/reactions/${THUMBS_UP}`)],
      ["POST read", outsider.post(`${c}/read`, { seq: 1 })],
      ["GET events", outsider.get(`${c}/events?after=0`)],
    ];
    for (const [label, attempt] of attempts) {
      const res = await attempt;
      try {
        assertProblem(res, 404, "not_found");
      } catch (err) {
        throw new Error(`${label} on ${id}: ${(err as Error).message}`);
      }
      assert.doesNotMatch(JSON.stringify(res.body), /Matrix|hello/, "no content leaks");
    }
  }
  const still = await cast.owner.client.get(`/v1/conversations/${group}`);
  assert.equal(still.body.name, "Matrix");
  assert.equal(still.body.memberCount, 7);
});
