import assert from "node:assert/strict";
import {
  assertProblem,
  registerUser,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Fixture {
  s: TestServer;
  owner: TestUser;
  bob: TestUser;
  carol: TestUser;
  conv: string;
}

async function fixture(s: TestServer): Promise<Fixture> {
  const owner = await registerUser(s.url);
  const bob = await registerUser(s.url);
  const carol = await registerUser(s.url);
  const res = await owner.client.post("/v1/conversations", {
    type: "group",
    name: "Receipts",
    memberIds: [bob.id, carol.id],
  });
  assert.equal(res.status, 201);
  return { s, owner, bob, carol, conv: res.body.id };
}

let n = 0;
async function send(f: Fixture, u: TestUser, text: string): Promise<any> {
  const res = await u.client.post(`/v1/conversations/${f.conv}/messages`, {
    clientMsgId: `receipt-${n++}`,
    text,
  });
  assert.equal(res.status, 201);
  return res.body.message;
}

async function mark(f: Fixture, u: TestUser, kind: "read" | "delivered", seq: number) {
  const res = await u.client.post(`/v1/conversations/${f.conv}/${kind}`, { seq });
  assert.equal(res.status, 204, JSON.stringify(res.body));
}

/** The conversation as `u` sees it in their conversation list. */
async function listed(f: Fixture, u: TestUser): Promise<any> {
  const res = await u.client.get("/v1/conversations");
  assert.equal(res.status, 200);
  return res.body.conversations.find((c: any) => c.id === f.conv);
}

async function receipts(f: Fixture, u: TestUser, messageId: string): Promise<Map<string, any>> {
  const res = await u.client.get(`/v1/conversations/${f.conv}/messages/${messageId}/receipts`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return new Map(res.body.receipts.map((r: any) => [r.userId, r]));
}

serverTest("read markers answer 204, are monotonic, and drive unreadCount", async (s) => {
  const f = await fixture(s);
  const msgs = [];
  for (let i = 0; i < 4; i++) msgs.push(await send(f, f.owner, `m${i}`));
  assert.equal((await listed(f, f.bob)).unreadCount, 4);
  await mark(f, f.bob, "read", msgs[2].seq);
  assert.equal((await listed(f, f.bob)).unreadCount, 1);
  await mark(f, f.bob, "read", msgs[0].seq); // lower: ignored
  assert.equal((await listed(f, f.bob)).unreadCount, 1);
  const r = await receipts(f, f.owner, msgs[2].id);
  assert.match(r.get(f.bob.id).readAt, ISO_MS, "still read after the lower marker");
  assert.equal((await receipts(f, f.owner, msgs[3].id)).get(f.bob.id).readAt, undefined);
  assert.equal((await listed(f, f.carol)).unreadCount, 4, "markers are per user");
  await mark(f, f.bob, "read", msgs[3].seq);
  assert.equal((await listed(f, f.bob)).unreadCount, 0);
});

serverTest(
  "the read marker's time does not move when the same or a lower seq is posted again",
  async (s) => {
    const f = await fixture(s);
    const a = await send(f, f.owner, "a");
    const b = await send(f, f.owner, "b");
    await mark(f, f.bob, "read", b.seq);
    const before = await receipts(f, f.owner, a.id);
    await mark(f, f.bob, "read", a.seq);
    await mark(f, f.bob, "read", b.seq);
    assert.deepEqual(await receipts(f, f.owner, a.id), before);
  },
);

serverTest(
  "receipts list every member except the sender; delivered sets deliveredAt only; read implies delivered",
  async (s) => {
    const f = await fixture(s);
    const m = await send(f, f.owner, "did you get this?");
    const initial = await receipts(f, f.bob, m.id);
    assert.deepEqual([...initial.keys()].sort(), [f.bob.id, f.carol.id].sort());
    assert.deepEqual(initial.get(f.bob.id), { userId: f.bob.id });
    assert.deepEqual(initial.get(f.carol.id), { userId: f.carol.id });

    await mark(f, f.bob, "delivered", m.seq);
    const delivered = (await receipts(f, f.owner, m.id)).get(f.bob.id);
    assert.match(delivered.deliveredAt, ISO_MS);
    assert.equal(delivered.readAt, undefined);
    assert.equal((await listed(f, f.bob)).unreadCount, 1, "delivered is not read");

    await mark(f, f.carol, "read", m.seq);
    const read = (await receipts(f, f.owner, m.id)).get(f.carol.id);
    assert.match(read.readAt, ISO_MS);
    assert.match(read.deliveredAt, ISO_MS, "reading implies delivery");
    assert.ok(read.deliveredAt <= read.readAt);

    await mark(f, f.bob, "read", m.seq);
    const both = (await receipts(f, f.owner, m.id)).get(f.bob.id);
    assert.equal(both.deliveredAt, delivered.deliveredAt, "delivery time is kept");
    assert.ok(both.readAt >= both.deliveredAt);
  },
);

serverTest(
  "markers never take a seq: lastSeq and the event log are unchanged by read and delivered",
  async (s) => {
    const f = await fixture(s);
    const m = await send(f, f.owner, "hello");
    const before = (await f.owner.client.get(`/v1/conversations/${f.conv}`)).body;
    await mark(f, f.bob, "delivered", m.seq);
    await mark(f, f.bob, "read", m.seq);
    await mark(f, f.carol, "read", m.seq);
    const after = (await f.owner.client.get(`/v1/conversations/${f.conv}`)).body;
    assert.equal(after.lastSeq, before.lastSeq);
    const events = await f.owner.client.get(
      `/v1/conversations/${f.conv}/events?after=${m.seq}`,
    );
    assert.deepEqual(events.body.events, []);
  },
);

serverTest("a read seq beyond lastSeq is clamped: later messages are still unread", async (s) => {
  const f = await fixture(s);
  const m = await send(f, f.owner, "now");
  await mark(f, f.bob, "read", m.seq + 1000);
  assert.equal((await listed(f, f.bob)).unreadCount, 0);
  const later = await send(f, f.owner, "later");
  assert.equal((await listed(f, f.bob)).unreadCount, 1, "the marker did not jump ahead");
  assert.equal((await receipts(f, f.owner, later.id)).get(f.bob.id).readAt, undefined);
  assert.match((await receipts(f, f.owner, m.id)).get(f.bob.id).readAt, ISO_MS);
});

serverTest("unreadCount excludes the caller's own messages", async (s) => {
  const f = await fixture(s);
  for (let i = 0; i < 3; i++) await send(f, f.owner, `own ${i}`);
  assert.equal((await listed(f, f.owner)).unreadCount, 0);
  assert.equal((await listed(f, f.bob)).unreadCount, 3);
  await send(f, f.bob, "bob");
  await send(f, f.carol, "carol");
  assert.equal((await listed(f, f.owner)).unreadCount, 2);
  assert.equal((await listed(f, f.carol)).lastMessage.text, "carol");
});

serverTest(
  "sending reads everything before it: unreadCount and receipts agree for the sender",
  async (s) => {
    const f = await fixture(s);
    const question = await send(f, f.owner, "lunch?");
    assert.equal((await listed(f, f.bob)).unreadCount, 1);
    const answer = await send(f, f.bob, "yes");
    assert.equal((await listed(f, f.bob)).unreadCount, 0);
    const r = (await receipts(f, f.owner, question.id)).get(f.bob.id);
    assert.match(r.readAt, ISO_MS, "the reply shows the question as read");
    assert.match(r.deliveredAt, ISO_MS);
    assert.equal((await receipts(f, f.owner, question.id)).get(f.carol.id).readAt, undefined);
    // A client that then marks what it displayed (up to its own reply) changes nothing.
    await mark(f, f.bob, "read", answer.seq);
    assert.deepEqual((await receipts(f, f.owner, question.id)).get(f.bob.id), r);
  },
);

serverTest("markers and receipts are 404 for non-members and bad seqs are 400", async (s) => {
  const f = await fixture(s);
  const outsider = await registerUser(f.s.url);
  const m = await send(f, f.owner, "members only");
  assertProblem(
    await outsider.client.post(`/v1/conversations/${f.conv}/read`, { seq: m.seq }),
    404,
    "not_found",
  );
  assertProblem(
    await outsider.client.get(`/v1/conversations/${f.conv}/messages/${m.id}/receipts`),
    404,
    "not_found",
  );
  assertProblem(
    await f.bob.client.get(`/v1/conversations/${f.conv}/messages/unknown/receipts`),
    404,
    "not_found",
  );
  for (const seq of [-1, 1.5, "3", null]) {
    assertProblem(
      await f.bob.client.post(`/v1/conversations/${f.conv}/read`, { seq }),
      400,
      "validation_failed",
    );
  }
});
