// The conversation list: order by activity, archived and muted state, pagination, unread counts.
import assert from "node:assert/strict";
import { ids, list, listed, pastMillisecond, sendOk } from "../support/conversations.ts";
import {
  assertProblem,
  createGroup,
  registerUsers,
  type Reply,
  serverTest,
} from "../support/server.ts";

serverTest("the conversation list is ordered by latest activity", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const made: any[] = [];
  for (const name of ["one", "two", "three"]) {
    if (made.length) await pastMillisecond(made.at(-1).updatedAt);
    made.push(await createGroup(a, name, [b]));
  }
  const [g1, g2, g3] = made.map((g) => g.id);
  assert.deepEqual(ids(await list(a)), [g3, g2, g1]);

  await pastMillisecond(made[2].updatedAt);
  const msg = await sendOk(b, g1, "bump");
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
});

serverTest("archived conversations are listed only with ?archived=true", async (s) => {
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
});

serverTest(
  "muted and mutedUntil show in the list, expire, and are cleared by muted:false",
  async (s) => {
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
  },
);

serverTest(
  "cursor pagination over the list returns every conversation exactly once, in order",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const created = new Set<string>();
    for (let i = 0; i < 11; i++) created.add((await createGroup(a, `g${i}`, [b])).id);
    // Some activity in between, so the order is not just creation order.
    const all = await list(a);
    await sendOk(b, all.at(-1).id, "wake up");

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
  },
);

serverTest(
  "unreadCount counts others' messages after the read marker; lastMessage is the newest",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const id = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id }))
      .body.id;
    const [m1, m2, m3] = [
      await sendOk(b, id, "one"),
      await sendOk(b, id, "two"),
      await sendOk(b, id, "three"),
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

    const reply = await sendOk(a, id, "hi back");
    item = await listed(a, id);
    assert.equal(item.unreadCount, 0);
    assert.equal(item.lastMessage.id, reply.id);
    assert.equal((await listed(b, id)).unreadCount, 1);

    const g = await createGroup(a, "quiet", [c]);
    await a.client.patch(`/v1/conversations/${g.id}`, { name: "still quiet" });
    assert.equal((await listed(c, g.id)).unreadCount, 0, "system messages are not unread");
  },
);
