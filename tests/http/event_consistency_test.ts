/**
 * Event consistency in the style of Zulip's `verify_action`: for each action, fetch the state, do the
 * action, fetch the events after the old head, apply them to the old state with a small reducer, and
 * assert the result equals a fresh fetch. Checked from several members' points of view, since
 * reactions carry a per-viewer `me`.
 */
import assert from "node:assert/strict";
import { applyEvent, fetchState } from "../support/event_state.ts";
import { ok, registerUser, serverTest, type TestServer, type TestUser } from "../support/server.ts";

async function fetchEvents(u: TestUser, conv: string, after: number): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const res = await u.client.get(`/v1/conversations/${conv}/events?after=${after}&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(...res.body.events);
    if (!res.body.hasMore) return out;
    after = res.body.events.at(-1).seq;
  }
}

interface Group {
  conv: string;
  owner: TestUser;
  admin: TestUser;
  mod: TestUser;
  member: TestUser;
  outsider: TestUser;
  seed: any;
}

/** A group with an owner, an admin, a moderator and a member, and one message with a reaction. */
async function setup(s: TestServer): Promise<Group> {
  const [owner, admin, mod, member, outsider] = [
    await registerUser(s.url),
    await registerUser(s.url),
    await registerUser(s.url),
    await registerUser(s.url),
    await registerUser(s.url),
  ];
  const created = await owner.client.post("/v1/conversations", {
    type: "group",
    name: "Consistency",
    description: "before",
    memberIds: [admin.id, mod.id, member.id],
  });
  assert.equal(created.status, 201);
  const conv = created.body.id;
  const members = `/v1/conversations/${conv}/members`;
  assert.equal((await owner.client.patch(`${members}/${admin.id}`, { role: "admin" })).status, 200);
  assert.equal(
    (await admin.client.patch(`${members}/${mod.id}`, { role: "moderator" })).status,
    200,
  );
  const seed = await member.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: "seed",
    text: "seed message",
  });
  assert.equal(seed.status, 201);
  const reacted = await admin.client.put(
    `/v1/conversations/${conv}/messages/${seed.body.message.id}/reactions/${
      encodeURIComponent("👍")
    }`,
  );
  assert.equal(reacted.status, 200);
  return { conv, owner, admin, mod, member, outsider, seed: seed.body.message };
}

/**
 * Runs `action` once and checks, for every viewer, that the old state plus the events after the old
 * head equals a fresh fetch. Returns the events (as the first viewer saw them).
 */
async function verifyAction(
  g: Group,
  viewers: (g: Group) => TestUser[],
  action: (g: Group) => Promise<unknown>,
): Promise<any[]> {
  const who = viewers(g);
  const before = await Promise.all(who.map((u) => fetchState(u, g.conv)));
  await action(g);
  let first: any[] = [];
  for (const [i, u] of who.entries()) {
    const events = await fetchEvents(u, g.conv, before[i].lastSeq);
    assert.ok(events.length > 0, "the action produced at least one durable event");
    if (i === 0) first = events;
    const applied = events.reduce(applyEvent, before[i]);
    const fresh = await fetchState(u, g.conv);
    assert.deepEqual(applied, fresh, `viewer ${i} (${u.username})`);
  }
  return first;
}

const everyone = (g: Group) => [g.owner, g.admin, g.mod, g.member];

function msgPath(g: Group, id: string): string {
  return `/v1/conversations/${g.conv}/messages/${id}`;
}

const cases: Array<{
  name: string;
  viewers: (g: Group) => TestUser[];
  action: (g: Group) => Promise<unknown>;
  events: string[];
}> = [
  {
    name: "post a poll, then vote on it",
    viewers: everyone,
    events: ["message.created", "message.updated"],
    action: async (g) => {
      const poll = ok(
        await g.owner.client.post(`/v1/conversations/${g.conv}/messages`, {
          clientMsgId: "poll",
          poll: { question: "Which?", options: ["a", "b"] },
        }),
        201,
      ).body.message;
      ok(
        await g.member.client.put(`${msgPath(g, poll.id)}/votes`, { optionIds: ["o2"] }),
      );
    },
  },
  {
    name: "replies in a thread, one also in the conversation",
    viewers: everyone,
    events: ["message.created", "message.created", "message.created"],
    action: async (g) => {
      const send = async (u: TestUser, clientMsgId: string, extra: object) =>
        ok(
          await u.client.post(`/v1/conversations/${g.conv}/messages`, {
            clientMsgId,
            text: clientMsgId,
            threadId: g.seed.id,
            ...extra,
          }),
          201,
        );
      await send(g.owner, "t1", {});
      await send(g.admin, "t2", { alsoInConversation: true, mentions: [g.owner.id] });
      await send(g.owner, "t3", {});
    },
  },
  {
    name: "edit and delete thread replies, then edit the root",
    viewers: everyone,
    events: [
      "message.created",
      "message.created",
      "message.updated",
      "message.deleted",
      "message.updated",
    ],
    action: async (g) => {
      const send = async (clientMsgId: string, extra: object) =>
        ok(
          await g.owner.client.post(`/v1/conversations/${g.conv}/messages`, {
            clientMsgId,
            text: clientMsgId,
            threadId: g.seed.id,
            ...extra,
          }),
          201,
        ).body.message;
      const a = await send("r1", {});
      const b = await send("r2", { alsoInConversation: true });
      ok(await g.owner.client.patch(msgPath(g, a.id), { text: "r1 edited" }));
      ok(await g.owner.client.delete(`${msgPath(g, b.id)}?for=everyone`), 204);
      ok(await g.member.client.patch(msgPath(g, g.seed.id), { text: "root edited" }));
    },
  },
  {
    name: "pin",
    viewers: everyone,
    events: ["pin.updated"],
    action: async (g) =>
      ok(await g.mod.client.put(`/v1/conversations/${g.conv}/pins/${g.seed.id}`), 204),
  },
  {
    name: "unpin",
    viewers: everyone,
    events: ["pin.updated", "pin.updated"],
    action: async (g) => {
      ok(await g.mod.client.put(`/v1/conversations/${g.conv}/pins/${g.seed.id}`), 204);
      ok(await g.admin.client.delete(`/v1/conversations/${g.conv}/pins/${g.seed.id}`), 204);
    },
  },
  {
    name: "delete a pinned message for everyone",
    viewers: everyone,
    events: ["pin.updated", "message.deleted"],
    action: async (g) => {
      ok(await g.mod.client.put(`/v1/conversations/${g.conv}/pins/${g.seed.id}`), 204);
      ok(await g.member.client.delete(`${msgPath(g, g.seed.id)}?for=everyone`), 204);
    },
  },
  {
    name: "set the message timer, then send",
    viewers: everyone,
    events: ["conversation.updated", "message.created"],
    action: async (g) => {
      ok(
        await g.admin.client.patch(`/v1/conversations/${g.conv}`, {
          settings: { messageTtlSeconds: 3600 },
        }),
      );
      ok(
        await g.member.client.post(`/v1/conversations/${g.conv}/messages`, {
          clientMsgId: "timed",
          text: "disappears in an hour",
        }),
        201,
      );
    },
  },
  {
    name: "send",
    viewers: everyone,
    events: ["message.created"],
    action: async (g) =>
      ok(
        await g.mod.client.post(`/v1/conversations/${g.conv}/messages`, {
          clientMsgId: "sent",
          text: "a new message",
          replyTo: g.seed.id,
          mentions: [g.member.id],
        }),
        201,
      ),
  },
  {
    name: "edit",
    viewers: everyone,
    events: ["message.updated"],
    action: async (g) => ok(await g.member.client.patch(msgPath(g, g.seed.id), { text: "edited" })),
  },
  {
    name: "delete for everyone (with reactions on it)",
    viewers: everyone,
    events: ["message.deleted"],
    action: async (g) =>
      ok(await g.mod.client.delete(`${msgPath(g, g.seed.id)}?for=everyone`), 204),
  },
  {
    name: "react add",
    viewers: everyone,
    events: ["reaction.updated"],
    action: async (g) =>
      ok(
        await g.member.client.put(`${msgPath(g, g.seed.id)}/reactions/${encodeURIComponent("👍")}`),
      ),
  },
  {
    name: "react add of a second emoji",
    viewers: everyone,
    events: ["reaction.updated"],
    action: async (g) =>
      ok(
        await g.owner.client.put(`${msgPath(g, g.seed.id)}/reactions/${encodeURIComponent("🇫🇷")}`),
      ),
  },
  {
    name: "react remove",
    viewers: everyone,
    events: ["reaction.updated"],
    action: async (g) =>
      ok(
        await g.admin.client.delete(
          `${msgPath(g, g.seed.id)}/reactions/${encodeURIComponent("👍")}`,
        ),
      ),
  },
  {
    name: "add member",
    viewers: (g) => [...everyone(g)],
    events: ["member.added"],
    action: async (g) =>
      ok(
        await g.mod.client.post(`/v1/conversations/${g.conv}/members`, {
          userIds: [g.outsider.id],
        }),
        201,
      ),
  },
  {
    name: "remove member",
    viewers: (g) => [g.owner, g.admin, g.mod],
    events: ["member.removed"],
    action: async (g) =>
      ok(await g.mod.client.delete(`/v1/conversations/${g.conv}/members/${g.member.id}`), 204),
  },
  {
    name: "member leaves",
    viewers: (g) => [g.owner, g.mod],
    events: ["member.removed"],
    action: async (g) =>
      ok(await g.admin.client.delete(`/v1/conversations/${g.conv}/members/${g.admin.id}`), 204),
  },
  {
    name: "owner leaves (the admin succeeds)",
    viewers: (g) => [g.admin, g.mod, g.member],
    events: ["member.removed"],
    action: async (g) =>
      ok(await g.owner.client.delete(`/v1/conversations/${g.conv}/members/${g.owner.id}`), 204),
  },
  {
    name: "rename group (with description and settings)",
    viewers: everyone,
    events: ["conversation.updated"],
    action: async (g) =>
      ok(
        await g.admin.client.patch(`/v1/conversations/${g.conv}`, {
          name: "Renamed",
          description: "after",
          settings: { membersCanAddMembers: true },
        }),
      ),
  },
  {
    name: "role change to moderator",
    viewers: everyone,
    events: ["member.updated"],
    action: async (g) =>
      ok(
        await g.admin.client.patch(`/v1/conversations/${g.conv}/members/${g.member.id}`, {
          role: "moderator",
        }),
      ),
  },
  {
    name: "role change to admin and back to member",
    viewers: everyone,
    events: ["member.updated", "member.updated"],
    action: async (g) => {
      const path = `/v1/conversations/${g.conv}/members/${g.mod.id}`;
      ok(await g.owner.client.patch(path, { role: "admin" }));
      ok(await g.owner.client.patch(path, { role: "member" }));
    },
  },
  {
    name: "ownership transfer",
    viewers: everyone,
    events: ["member.updated"],
    action: async (g) =>
      ok(await g.owner.client.post(`/v1/conversations/${g.conv}/owner`, { userId: g.member.id })),
  },
];

for (const c of cases) {
  serverTest(`events after "${c.name}" applied to the old state equal a fresh fetch`, async (s) => {
    const g = await setup(s);
    const events = await verifyAction(g, c.viewers, c.action);
    assert.deepEqual(events.map((e) => e.event), c.events);
    const seqs = events.map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
  });
}

serverTest(
  "replaying every event after a mixed sequence of actions converges on a fresh fetch",
  async (s) => {
    const g = await setup(s);
    const viewers = [g.owner, g.member, g.mod];
    const before = await Promise.all(viewers.map((u) => fetchState(u, g.conv)));
    const react = (u: TestUser, id: string, e: string, add = true) =>
      add
        ? u.client.put(`${msgPath(g, id)}/reactions/${encodeURIComponent(e)}`)
        : u.client.delete(`${msgPath(g, id)}/reactions/${encodeURIComponent(e)}`);
    const sent = await g.member.client.post(`/v1/conversations/${g.conv}/messages`, {
      clientMsgId: "mixed",
      text: "first draft",
    });
    ok(sent, 201);
    const id = sent.body.message.id;
    ok(await react(g.owner, id, "🔥"));
    ok(await g.member.client.patch(msgPath(g, id), { text: "second draft" }));
    ok(await react(g.mod, id, "🔥"));
    ok(await react(g.owner, id, "🔥", false));
    ok(await g.owner.client.patch(`/v1/conversations/${g.conv}`, { name: "Mixed" }));
    ok(await react(g.member, g.seed.id, "👍"));
    ok(await g.mod.client.delete(`${msgPath(g, g.seed.id)}?for=everyone`), 204);
    ok(
      await g.owner.client.post(`/v1/conversations/${g.conv}/members`, {
        userIds: [g.outsider.id],
      }),
      201,
    );
    ok(await g.admin.client.delete(`/v1/conversations/${g.conv}/members/${g.outsider.id}`), 204);
    for (const [i, u] of viewers.entries()) {
      const events = await fetchEvents(u, g.conv, before[i].lastSeq);
      assert.equal(events.length, 10);
      assert.deepEqual(events.reduce(applyEvent, before[i]), await fetchState(u, g.conv));
    }
  },
);
