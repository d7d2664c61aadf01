import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  serverTest,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { downloadArchive, exportReady, jsonLines } from "../support/privacy.ts";

function poster(conv: string) {
  return (u: TestUser, body: Record<string, unknown>) =>
    u.client.post(`/v1/conversations/${conv}/messages`, {
      clientMsgId: crypto.randomUUID(),
      ...body,
    });
}

async function listEntry(u: TestUser, conv: string): Promise<any> {
  return ok(await u.client.get("/v1/conversations")).body.conversations.find((c: any) =>
    c.id === conv
  );
}

serverTest(
  "threads: replies stay out of the main history unless also sent there; the root sums them up",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const g = await createGroup(a, "Threads", [b, c]);
    const send = poster(g.id);
    const sock = await WsClient.connect(s.url, c.accessToken);
    const root = ok(await send(a, { text: "the plan?" }), 201).body.message;

    const r1 = ok(await send(b, { text: "step one", threadId: root.id }), 201).body.message;
    assert.equal(r1.threadId, root.id);
    assert.equal(r1.alsoInConversation, undefined);
    const live = await sock.next((f) => f.event === "message.created" && f.data.id === r1.id);
    assert.equal(live.data.threadId, root.id, "a reply is a durable event of the conversation");
    assert.equal(live.seq, r1.seq);
    const r2 =
      ok(await send(c, { text: "also here", threadId: root.id, alsoInConversation: true }), 201)
        .body.message;
    assert.equal(r2.alsoInConversation, true);
    const r3 = ok(await send(b, { text: "step two", threadId: root.id }), 201).body.message;

    const history = ok(await a.client.get(`/v1/conversations/${g.id}/messages`)).body.messages;
    const ids = history.map((m: any) => m.id);
    assert.ok(ids.includes(root.id) && ids.includes(r2.id));
    assert.ok(!ids.includes(r1.id) && !ids.includes(r3.id), "thread-only replies");
    const shown = history.find((m: any) => m.id === root.id);
    assert.deepEqual(shown.thread, {
      replyCount: 3,
      lastReplyAt: r3.createdAt,
      participantIds: [b.id, c.id],
    });
    assert.equal(history.find((m: any) => m.id === r2.id).thread, undefined);

    // The conversation list shows the main history: its last message and unread count.
    const entry = await listEntry(a, g.id);
    assert.equal(entry.lastMessage.id, r2.id);
    assert.equal(entry.unreadCount, 1, "only the reply also sent to the conversation");

    const page = ok(
      await a.client.get(`/v1/conversations/${g.id}/threads/${root.id}/messages?limit=2`),
    ).body;
    assert.equal(page.root.id, root.id);
    assert.equal(page.root.thread.replyCount, 3);
    assert.deepEqual(page.messages.map((m: any) => m.id), [r2.id, r3.id], "ascending seq");
    assert.equal(page.hasMore, true);
    const older = ok(
      await a.client.get(
        `/v1/conversations/${g.id}/threads/${root.id}/messages?limit=2&before=${r2.seq}`,
      ),
    ).body;
    assert.deepEqual(older.messages.map((m: any) => m.id), [r1.id]);
    assert.equal(older.hasMore, false);
    const newer = ok(
      await a.client.get(
        `/v1/conversations/${g.id}/threads/${root.id}/messages?after=${r1.seq}`,
      ),
    ).body;
    assert.deepEqual(newer.messages.map((m: any) => m.id), [r2.id, r3.id]);

    // Deleting a reply leaves its tombstone in the thread; the count keeps it.
    ok(await b.client.delete(`/v1/conversations/${g.id}/messages/${r1.id}?for=everyone`), 204);
    const after = ok(await a.client.get(`/v1/conversations/${g.id}/threads/${root.id}/messages`))
      .body;
    assert.ok(after.messages[0].deletedAt);
    assert.equal(after.messages[0].threadId, root.id);
    assert.equal(after.root.thread.replyCount, 3);
    sock.close();
  },
);

serverTest(
  "threads: per-thread unread, monotonic read markers synced to other devices, followed threads",
  async (s) => {
    const [a, b, c, d] = await registerUsers(s.url, 4);
    const g = await createGroup(a, "Threads", [b, c, d]);
    const send = poster(g.id);
    const t1 = ok(await send(a, { text: "first topic" }), 201).body.message;
    const t2 = ok(await send(c, { text: "second topic" }), 201).body.message;
    ok(await send(a, { text: "no replies here" }), 201);
    ok(await send(b, { text: "on one", threadId: t1.id }), 201);
    const mention = ok(
      await send(c, { text: "@b see", threadId: t1.id, mentions: [b.id] }),
      201,
    ).body.message;
    const late = ok(await send(b, { text: "on two", threadId: t2.id, mentions: [d.id] }), 201)
      .body.message;

    const threads = ok(await a.client.get(`/v1/conversations/${g.id}/threads`)).body;
    assert.deepEqual(threads.threads.map((t: any) => t.root.id), [t2.id, t1.id], "activity first");
    const [two, one] = threads.threads;
    assert.deepEqual(
      [one.replyCount, one.lastReplyAt, one.unreadCount, one.conversationId],
      [2, mention.createdAt, 2, g.id],
    );
    assert.deepEqual([two.replyCount, two.lastReplyAt, two.unreadCount], [1, late.createdAt, 1]);
    assert.equal(one.root.thread.replyCount, 2);
    const forB = ok(await b.client.get(`/v1/conversations/${g.id}/threads`)).body.threads;
    assert.deepEqual(forB.map((t: any) => t.unreadCount), [0, 1], "one's own replies are read");

    const first = ok(await a.client.get(`/v1/conversations/${g.id}/threads?limit=1`)).body;
    assert.deepEqual(first.threads.map((t: any) => t.root.id), [t2.id]);
    const rest = ok(
      await a.client.get(`/v1/conversations/${g.id}/threads?limit=1&cursor=${first.nextCursor}`),
    ).body;
    assert.deepEqual(rest.threads.map((t: any) => t.root.id), [t1.id]);
    assert.equal(rest.nextCursor, undefined);

    // The read marker: monotonic, and other devices hear of it.
    const device = await WsClient.connect(s.url, a.accessToken);
    const readPath = `/v1/conversations/${g.id}/threads/${t1.id}/read`;
    ok(await a.client.post(readPath, { seq: mention.seq }), 204);
    const heard = await device.next((f) => f.event === "thread.read");
    assert.deepEqual(heard.data, { conversationId: g.id, rootId: t1.id, seq: mention.seq });
    ok(await a.client.post(readPath, { seq: 1 }), 204);
    const unread = async (u: TestUser, rootId: string) =>
      ok(await u.client.get(`/v1/conversations/${g.id}/threads`)).body.threads.find((t: any) =>
        t.root.id === rootId
      ).unreadCount;
    assert.equal(await unread(a, t1.id), 0, "a lower seq is ignored");
    ok(await send(c, { text: "more", threadId: t1.id }), 201);
    assert.equal(await unread(a, t1.id), 1);
    device.close();

    // Followed: who replied, who was mentioned in a reply, who wrote the root.
    const followed = async (u: TestUser) =>
      ok(await u.client.get("/v1/users/me/threads")).body.threads.map((t: any) => t.root.id);
    assert.deepEqual(await followed(a), [t1.id], "wrote the root of thread one");
    assert.deepEqual((await followed(b)).sort(), [t1.id, t2.id].sort());
    assert.deepEqual(await followed(c), [t1.id, t2.id], "replied in one (latest), wrote two");
    assert.deepEqual(await followed(d), [t2.id], "mentioned in a reply");
    const mine = ok(await d.client.get("/v1/users/me/threads")).body.threads[0];
    assert.deepEqual([mine.conversationId, mine.unreadCount], [g.id, 1]);

    ok(await d.client.delete(`/v1/conversations/${g.id}/members/${d.id}`), 204);
    assert.deepEqual(await followed(d), [], "leaving ends following its threads");
  },
);

serverTest("threads: bad thread references and requests get clear problems", async (s) => {
  const [a, b, outsider] = await registerUsers(s.url, 3);
  const g = await createGroup(a, "Threads", [b]);
  const other = await createGroup(a, "Elsewhere", [b]);
  const send = poster(g.id);
  const root = ok(await send(a, { text: "root" }), 201).body.message;
  const elsewhere = ok(await poster(other.id)(a, { text: "elsewhere" }), 201).body.message;
  const reply = ok(await send(b, { text: "reply", threadId: root.id }), 201).body.message;
  const system = ok(await a.client.get(`/v1/conversations/${g.id}/messages?after=0&limit=1`))
    .body.messages[0];
  assert.equal(system.kind, "system");

  const badThread = async (threadId: string, why: string) => {
    const res = await send(b, { text: "x", threadId });
    assertProblem(res, 400, "validation_failed");
    assert.ok(JSON.stringify(res.body).includes("threadId"), why);
  };
  await badThread(elsewhere.id, "a root from another conversation");
  await badThread(reply.id, "a reply is no root");
  await badThread(system.id, "a system message is no root");
  await badThread("nope", "no such message");
  assertProblem(await send(b, { text: "x", alsoInConversation: true }), 400, "validation_failed");
  assertProblem(
    await send(b, { text: "x", threadId: root.id, alsoInConversation: "yes" }),
    400,
    "validation_failed",
  );

  const base = `/v1/conversations/${g.id}/threads`;
  assertProblem(await a.client.get(`${base}/${reply.id}/messages`), 404, "not_found");
  assertProblem(await a.client.get(`${base}/${elsewhere.id}/messages`), 404, "not_found");
  assertProblem(
    await a.client.get(`${base}/${root.id}/messages?before=5&after=1`),
    400,
    "validation_failed",
  );
  assertProblem(await outsider.client.get(`${base}/${root.id}/messages`), 404, "not_found");
  assertProblem(await outsider.client.get(base), 404, "not_found");
  assertProblem(
    await outsider.client.post(`${base}/${root.id}/read`, { seq: 1 }),
    404,
    "not_found",
  );
  assertProblem(await a.client.post(`${base}/${reply.id}/read`, { seq: 1 }), 404, "not_found");
  assertProblem(
    await a.client.post(`${base}/${root.id}/read`, { seq: -1 }),
    400,
    "validation_failed",
  );
  assertProblem(
    await a.client.post(`${base}/${root.id}/read`, { seq: 1, rootId: root.id }),
    400,
    "validation_failed",
  );
  assertProblem(await a.client.get(`${base}?cursor=bogus`), 400, "validation_failed");
  assertProblem(await a.client.get("/v1/users/me/threads?limit=0"), 400, "validation_failed");

  ok(await a.client.delete(`/v1/conversations/${g.id}/messages/${root.id}?for=everyone`), 204);
  assertProblem(await send(b, { text: "late", threadId: root.id }), 409, "conflict");
  const kept = ok(await b.client.get(`${base}/${root.id}/messages`)).body;
  assert.ok(kept.root.deletedAt, "a deleted root's thread still reads");
  assert.deepEqual(kept.messages.map((m: any) => m.id), [reply.id]);
});

serverTest("threads: a user's followed threads and read markers are in their export", async (s) => {
  const [a, b] = await registerUsers(s.url, 2);
  const g = await createGroup(a, "Threads", [b]);
  const send = poster(g.id);
  const root = ok(await send(a, { text: "root" }), 201).body.message;
  const reply = ok(await send(b, { text: "reply", threadId: root.id }), 201).body.message;
  const ready = await exportReady(b);
  const { files } = await downloadArchive(s.url, ready.url);
  assert.deepEqual(jsonLines(files["threads.jsonl"]), [
    { conversationId: g.id, rootId: root.id, following: true, readSeq: reply.seq },
  ]);
});
