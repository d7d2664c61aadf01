import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  registerUsers,
  type Reply,
  serverTest,
  startServer,
  type TestUser,
} from "../support/server.ts";

async function send(user: TestUser, id: string, text: string): Promise<any> {
  const res = await user.client.post(`/v1/conversations/${id}/messages`, {
    clientMsgId: crypto.randomUUID(),
    text,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

async function list(user: TestUser, query = ""): Promise<any[]> {
  const res = await user.client.get(`/v1/conversations${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.conversations;
}

async function listed(user: TestUser, id: string): Promise<any> {
  const item = (await list(user)).find((c) => c.id === id);
  assert.ok(item, `${id} is in the list`);
  return item;
}

/** Every durable event of a conversation after `after`, following `hasMore`. */
async function allEvents(user: TestUser, id: string, after = 0, limit = 200): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const res = await user.client.get(
      `/v1/conversations/${id}/events?after=${after}&limit=${limit}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(...res.body.events);
    if (!res.body.hasMore) return out;
    after = res.body.events.at(-1).seq;
  }
}

/**
 * Resolves once the clock has moved past `iso`, so the next server timestamp is strictly later.
 * Activity order and join order have millisecond resolution; this makes them unambiguous.
 */
async function pastMillisecond(iso: string): Promise<void> {
  const t = Date.parse(iso);
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

function ids(conversations: Array<{ id: string }>): string[] {
  return conversations.map((c) => c.id);
}

Deno.test({
  name: "a direct conversation is opened once: 201, then 200 with the same id from either side",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b, c] = await registerUsers(s.url, 3);
      const first = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
      assert.equal(first.status, 201);
      assert.equal(first.body.type, "direct");
      assert.equal(first.body.myRole, "member");
      assert.equal(first.body.memberCount, 2);
      assert.deepEqual(first.body.peer, {
        id: b.id,
        username: b.username,
        displayName: first.body.peer.displayName,
      });
      const again = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      const fromB = await b.client.post("/v1/conversations", { type: "direct", userId: a.id });
      assert.equal(fromB.status, 200);
      assert.equal(fromB.body.id, first.body.id);
      assert.equal(fromB.body.peer.id, a.id);
      assert.equal(fromB.body.myRole, "member");
      assertProblem(await c.client.get(`/v1/conversations/${first.body.id}`), 404, "not_found");

      const other = await a.client.post("/v1/conversations", { type: "direct", userId: c.id });
      assert.equal(other.status, 201);
      assert.notEqual(other.body.id, first.body.id);

      const self = await a.client.post("/v1/conversations", { type: "direct", userId: a.id });
      assertProblem(self, 400, "validation_failed");
      assert.equal(self.body.errors[0].path, "userId");
      const unknown = await a.client.post("/v1/conversations", {
        type: "direct",
        userId: "0000000000nosuchuser000000",
      });
      assertProblem(unknown, 400, "validation_failed");
      assert.equal(unknown.body.errors[0].path, "userId");
      assert.equal((await list(a)).length, 2, "failed attempts create nothing");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "opening a direct conversation concurrently from both sides yields one conversation",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const attempts = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) =>
            i % 2 === 0
              ? a.client.post("/v1/conversations", { type: "direct", userId: b.id })
              : b.client.post("/v1/conversations", { type: "direct", userId: a.id }),
        ),
      );
      assert.equal(new Set(attempts.map((r) => r.body.id)).size, 1, "one id for all");
      assert.equal(attempts.filter((r) => r.status === 201).length, 1, "created exactly once");
      assert.equal(attempts.filter((r) => r.status === 200).length, 19);
      assert.deepEqual(ids(await list(a)), [attempts[0].body.id]);
      assert.deepEqual(ids(await list(b)), [attempts[0].body.id]);
      const events = await allEvents(a, attempts[0].body.id);
      assert.deepEqual(events.map((e) => e.event), ["conversation.created"]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "creating a group makes the creator owner and rejects bad names and unknown members",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "the conversation list is ordered by latest activity",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const made: any[] = [];
      for (const name of ["one", "two", "three"]) {
        if (made.length) await pastMillisecond(made.at(-1).updatedAt);
        made.push(await createGroup(a, name, [b]));
      }
      const [g1, g2, g3] = made.map((g) => g.id);
      assert.deepEqual(ids(await list(a)), [g3, g2, g1]);

      await pastMillisecond(made[2].updatedAt);
      const msg = await send(b, g1, "bump");
      const afterSend = await list(a);
      assert.deepEqual(ids(afterSend), [g1, g3, g2]);
      assert.equal(afterSend[0].lastMessage.id, msg.id);
      assert.equal(afterSend[0].lastMessage.text, "bump");
      assert.equal(afterSend[0].updatedAt, msg.createdAt);

      await pastMillisecond(msg.createdAt);
      const renamed = await a.client.patch(`/v1/conversations/${g2}`, { name: "two!" });
      assert.equal(renamed.status, 200);
      assert.deepEqual(ids(await list(a)), [g2, g1, g3], "a group change is activity too");
      assert.deepEqual(ids(await list(b)), [g2, g1, g3], "the same order for every member");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "archived conversations are listed only with ?archived=true",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const g1 = (await createGroup(a, "keep", [b])).id;
      const g2 = (await createGroup(a, "archive me", [b])).id;
      const put = await a.client.put(`/v1/conversations/${g2}/me`, { archived: true });
      assert.equal(put.status, 200);
      assert.equal(put.body.archived, true);
      assert.deepEqual(ids(await list(a)), [g1]);
      const archived = await list(a, "?archived=true");
      assert.deepEqual(ids(archived), [g2]);
      assert.equal(archived[0].archived, true);
      assert.equal((await list(b)).length, 2, "archiving is per user");

      await a.client.put(`/v1/conversations/${g2}/me`, { archived: false });
      assert.deepEqual(ids(await list(a, "?archived=true")), []);
      assert.deepEqual(new Set(ids(await list(a))), new Set([g1, g2]));
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "muted and mutedUntil show in the list, expire, and are cleared by muted:false",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const id = (await createGroup(a, "noisy", [b])).id;
      const me = `/v1/conversations/${id}/me`;

      assert.equal((await a.client.put(me, { muted: true })).status, 200);
      let item = await listed(a, id);
      assert.equal(item.muted, true);
      assert.equal(item.mutedUntil, undefined, "muted forever has no end");

      const until = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await a.client.put(me, { mutedUntil: until })).status, 200);
      item = await listed(a, id);
      assert.equal(item.muted, true);
      assert.equal(item.mutedUntil, until);
      assert.equal((await listed(b, id)).muted, false, "muting is per user");

      assert.equal((await a.client.put(me, { muted: false })).status, 200);
      item = await listed(a, id);
      assert.equal(item.muted, false);
      assert.equal(item.mutedUntil, undefined);

      const past = new Date(Date.now() - 60_000).toISOString();
      await a.client.put(me, { mutedUntil: past });
      item = await listed(a, id);
      assert.equal(item.muted, false, "a mute that has ended is over");
      assert.equal(item.mutedUntil, undefined);

      assertProblem(await a.client.put(me, { mutedUntil: "tomorrow" }), 400, "validation_failed");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "cursor pagination over the list returns every conversation exactly once, in order",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const created = new Set<string>();
      for (let i = 0; i < 11; i++) created.add((await createGroup(a, `g${i}`, [b])).id);
      // Some activity in between, so the order is not just creation order.
      const all = await list(a);
      await send(b, all.at(-1).id, "wake up");

      const whole = ids(await list(a, "?limit=200"));
      assert.equal(whole.length, 11);
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const res: Reply = await a.client.get(
          `/v1/conversations?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        assert.equal(res.status, 200);
        pages.push(ids(res.body.conversations));
        cursor = res.body.nextCursor;
      } while (cursor);
      assert.deepEqual(pages.map((p) => p.length), [4, 4, 3]);
      assert.deepEqual(pages.flat(), whole, "the pages concatenate to the full list");
      assert.deepEqual(new Set(pages.flat()), created);

      const exact = await a.client.get("/v1/conversations?limit=11");
      assert.equal(exact.body.nextCursor, undefined, "no cursor when nothing follows");
      assertProblem(
        await a.client.get("/v1/conversations?cursor=garbage"),
        400,
        "validation_failed",
      );
      assertProblem(await a.client.get("/v1/conversations?limit=201"), 400, "validation_failed");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "unreadCount counts others' messages after the read marker; lastMessage is the newest",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b, c] = await registerUsers(s.url, 3);
      const id = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id }))
        .body.id;
      const [m1, m2, m3] = [
        await send(b, id, "one"),
        await send(b, id, "two"),
        await send(b, id, "three"),
      ];
      let item = await listed(a, id);
      assert.equal(item.unreadCount, 3);
      assert.equal(item.lastMessage.id, m3.id);
      assert.equal(item.lastMessage.text, "three");
      assert.equal(item.lastMessage.senderId, b.id);
      assert.equal(item.lastSeq, m3.seq);
      assert.deepEqual(item.peer, {
        id: b.id,
        username: b.username,
        displayName: item.peer.displayName,
      });
      assert.equal((await listed(b, id)).unreadCount, 0, "your own messages are read");

      const read = (seq: number) => a.client.post(`/v1/conversations/${id}/read`, { seq });
      assert.equal((await read(m2.seq)).status, 204);
      assert.equal((await listed(a, id)).unreadCount, 1);
      assert.equal((await read(m1.seq)).status, 204);
      assert.equal((await listed(a, id)).unreadCount, 1, "a lower read marker is ignored");
      assert.equal(
        (await a.client.get(`/v1/conversations/${id}`)).body.lastSeq,
        m3.seq,
        "reads take no seq",
      );
      await read(m3.seq);
      assert.equal((await listed(a, id)).unreadCount, 0);

      const reply = await send(a, id, "hi back");
      item = await listed(a, id);
      assert.equal(item.unreadCount, 0);
      assert.equal(item.lastMessage.id, reply.id);
      assert.equal((await listed(b, id)).unreadCount, 1);

      const g = await createGroup(a, "quiet", [c]);
      await a.client.patch(`/v1/conversations/${g.id}`, { name: "still quiet" });
      assert.equal((await listed(c, g.id)).unreadCount, 0, "system messages are not unread");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "group changes are durable events with the next seq, each carrying a system message",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, x, y] = await registerUsers(s.url, 3);
      const id = (await createGroup(owner, "Events", [x])).id;
      await send(x, id, "before the changes");
      const path = `/v1/conversations/${id}`;
      const changes: Array<[string, () => Promise<Reply>]> = [
        ["member.added", () => owner.client.post(`${path}/members`, { userIds: [y.id] })],
        [
          "member.updated",
          () => owner.client.patch(`${path}/members/${y.id}`, { role: "moderator" }),
        ],
        ["conversation.updated", () => owner.client.patch(path, { name: "Renamed" })],
        ["member.removed", () => owner.client.delete(`${path}/members/${x.id}`)],
      ];
      for (const [name, change] of changes) {
        const before = (await owner.client.get(path)).body.lastSeq;
        const res = await change();
        assert.ok(res.status >= 200 && res.status < 300, `${name}: ${res.status}`);
        const events = await allEvents(owner, id, before);
        assert.equal(events.length, 1, `${name} is one event`);
        const [e] = events;
        assert.equal(e.event, name);
        assert.equal(e.seq, before + 1, `${name} takes the next seq`);
        assert.equal(e.conversationId, id);
        assert.equal(e.data.message.kind, "system");
        assert.equal(e.data.message.seq, e.seq);
        assert.equal((await owner.client.get(path)).body.lastSeq, e.seq);
      }

      const events = await allEvents(owner, id, 2);
      const [added, updated, renamed, removed] = events;
      assert.deepEqual(added.data.members.map((m: any) => [m.userId, m.role]), [[y.id, "member"]]);
      assert.deepEqual(updated.data.members, [{ userId: y.id, role: "moderator" }]);
      assert.equal(renamed.data.changes.name, "Renamed");
      assert.equal(removed.data.userId, x.id);

      const history = (await owner.client.get(`${path}/messages`)).body.messages;
      const system = history.filter((m: any) => m.kind === "system");
      assert.deepEqual(
        system.map((m: any) => m.seq),
        [1, ...events.map((e) => e.seq)],
        "the creation and every change appear in the history as system messages",
      );
      for (const e of events) {
        assert.equal(system.find((m: any) => m.seq === e.seq).id, e.data.message.id);
      }
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "an owner who leaves hands over to the longest-serving admin, then moderator, then member",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "transferring ownership makes the old owner an admin",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a group holds at most GROUP_MEMBER_LIMIT members",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ GROUP_MEMBER_LIMIT: "3" });
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "concurrent adds never take a group past GROUP_MEMBER_LIMIT",
  ...serverTest,
  fn: async () => {
    const s = await startServer({ GROUP_MEMBER_LIMIT: "3" });
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a removed member gets 404 for the conversation and no longer lists it",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, gone, stays] = await registerUsers(s.url, 3);
      const g = await createGroup(owner, "Club", [gone, stays]);
      const path = `/v1/conversations/${g.id}`;
      await send(gone, g.id, "I was here");
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "parallel sends take distinct seqs and the event log stays gap-free from 1 to lastSeq",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, x, y] = await registerUsers(s.url, 3);
      const g = await createGroup(owner, "Busy", [x, y]);
      const path = `/v1/conversations/${g.id}`;
      const sends = Array.from(
        { length: 50 },
        (_, i) =>
          (i % 2 ? x : y).client.post(`${path}/messages`, {
            clientMsgId: `parallel-${i}`,
            text: `message ${i}`,
          }),
      );
      const others = [
        owner.client.patch(path, { name: "Busy 1" }),
        owner.client.patch(path, { description: "lots going on" }),
        owner.client.patch(`${path}/members/${x.id}`, { role: "moderator" }),
      ];
      const results = await Promise.all([...sends, ...others]);
      for (const r of results) {
        assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
      }
      const messages = results.slice(0, 50).map((r) => r.body.message);
      const seqs = messages.map((m) => m.seq);
      assert.equal(new Set(seqs).size, 50, "every message has its own seq");

      const lastSeq = (await owner.client.get(path)).body.lastSeq;
      assert.equal(lastSeq, 1 + 50 + 3);
      const events = await allEvents(owner, g.id, 0, 20);
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: lastSeq }, (_, i) => i + 1),
        "no gap, no duplicate, in order",
      );
      const created = new Map(
        events.filter((e) => e.event === "message.created").map((e) => [e.data.id, e.seq]),
      );
      assert.equal(created.size, 50);
      for (const m of messages) {
        assert.equal(created.get(m.id), m.seq, "the ack's seq is the log's");
      }
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "adding people who are all members already answers 200 with no one added and no event",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, a] = await registerUsers(s.url, 2);
      const g = await createGroup(owner, "Already", [a]);
      const before = (await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq;
      const again = await owner.client.post(`/v1/conversations/${g.id}/members`, {
        userIds: [a.id],
      });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.members, []);
      assert.equal((await owner.client.get(`/v1/conversations/${g.id}`)).body.lastSeq, before);
    } finally {
      await s.close();
    }
  },
});
