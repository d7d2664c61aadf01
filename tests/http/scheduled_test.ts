import assert from "node:assert/strict";
import {
  assertProblem,
  createGroup,
  ok,
  registerUser,
  registerUsers,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

async function direct(a: TestUser, b: TestUser): Promise<string> {
  return ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201).body
    .id;
}

async function pair(s: TestServer) {
  const [alice, bob] = await registerUsers(s.url, 2);
  return { alice, bob, conversationId: await direct(alice, bob) };
}

serverTest(
  "a scheduled message is sent once at its time, as an ordinary message of its author",
  async (s) => {
    const { alice, bob, conversationId } = await pair(s);
    const bobWs = await WsClient.connect(s.url, bob.accessToken);
    const aliceWs = await WsClient.connect(s.url, alice.accessToken);
    const sendAt = inMs(1200);
    const res = ok(
      await alice.client.post(`/v1/conversations/${conversationId}/scheduled`, {
        clientMsgId: "later-1",
        text: "Happy new year 🎆",
        sendAt,
      }),
      201,
    );
    const { scheduled } = res.body;
    assert.deepEqual(
      { ...scheduled, id: undefined, createdAt: undefined, updatedAt: undefined },
      {
        id: undefined,
        conversationId,
        clientMsgId: "later-1",
        text: "Happy new year 🎆",
        mediaIds: [],
        sendAt,
        status: "pending",
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    const again = ok(
      await alice.client.post(`/v1/conversations/${conversationId}/scheduled`, {
        clientMsgId: "later-1",
        text: "Happy new year 🎆",
        sendAt,
      }),
      200,
    );
    assert.equal(again.body.scheduled.id, scheduled.id, "idempotent on clientMsgId");
    assert.deepEqual(
      ok(await alice.client.get("/v1/users/me/scheduled")).body.scheduled.map((x: any) => x.id),
      [scheduled.id],
    );

    const created = await bobWs.next((f) => f.event === "message.created", 6000);
    assert.equal(created.data.text, "Happy new year 🎆");
    assert.equal(created.data.senderId, alice.id);
    assert.equal(created.data.clientMsgId, "later-1");
    const late = Date.parse(created.data.createdAt) - Date.parse(sendAt);
    assert.ok(late >= 0 && late < 2000, `sent ${late} ms after its time`);
    const sent = await aliceWs.next((f) => f.event === "scheduled.sent");
    assert.deepEqual(sent.data, { id: scheduled.id, conversationId, messageId: created.data.id });
    assert.deepEqual(ok(await alice.client.get("/v1/users/me/scheduled")).body.scheduled, []);
    const history = ok(await bob.client.get(`/v1/conversations/${conversationId}/messages`)).body;
    assert.equal(history.messages.filter((m: any) => m.clientMsgId === "later-1").length, 1);
    await Promise.all([aliceWs.close(), bobWs.close()]);
  },
);

serverTest("scheduling refuses bad input with problem+json", async (s) => {
  const { alice, conversationId } = await pair(s);
  const stranger = await registerUser(s.url);
  const path = `/v1/conversations/${conversationId}/scheduled`;
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ clientMsgId: "p1", text: "hi", sendAt: inMs(-1000) }, "sendAt"],
    [{ clientMsgId: "p2", text: "hi", sendAt: "tomorrow" }, "sendAt"],
    [{ clientMsgId: "p3", text: "hi", sendAt: inMs(400 * 24 * 3600 * 1000) }, "sendAt"],
    [{ clientMsgId: "p4", sendAt: inMs(60_000) }, "text"],
    [{ clientMsgId: "p5", text: "hi", sendAt: inMs(60_000), colour: 1 }, "colour"],
    [{ text: "hi", sendAt: inMs(60_000) }, "clientMsgId"],
  ];
  for (const [body, field] of cases) {
    const res = await alice.client.post(path, body);
    assertProblem(res, 400, "validation_failed");
    assert.ok(
      res.body.errors.some((e: any) => e.path === field),
      `${field}: ${JSON.stringify(res.body)}`,
    );
  }
  assertProblem(
    await stranger.client.post(path, { clientMsgId: "x", text: "hi", sendAt: inMs(60_000) }),
    404,
    "not_found",
  );
  ok(
    await alice.client.post(`/v1/conversations/${conversationId}/messages`, {
      clientMsgId: "used",
      text: "hi",
    }),
    201,
  );
  assertProblem(
    await alice.client.post(path, { clientMsgId: "used", text: "hi", sendAt: inMs(60_000) }),
    409,
    "conflict",
  );
  assert.deepEqual(ok(await alice.client.get("/v1/users/me/scheduled")).body.scheduled, []);
});

serverTest(
  "a scheduled message can be changed and cancelled by its author only, until it is sent",
  async (s) => {
    const { alice, bob, conversationId } = await pair(s);
    const { scheduled } = ok(
      await alice.client.post(`/v1/conversations/${conversationId}/scheduled`, {
        clientMsgId: "c1",
        text: "draft",
        sendAt: inMs(60_000),
      }),
      201,
    ).body;
    assertProblem(
      await bob.client.patch(`/v1/scheduled/${scheduled.id}`, { text: "mine" }),
      404,
      "not_found",
    );
    assertProblem(await bob.client.delete(`/v1/scheduled/${scheduled.id}`), 404, "not_found");
    const sendAt = inMs(120_000);
    const changed = ok(
      await alice.client.patch(`/v1/scheduled/${scheduled.id}`, { text: "final", sendAt }),
    ).body.scheduled;
    assert.equal(changed.text, "final");
    assert.equal(changed.sendAt, sendAt);
    assertProblem(
      await alice.client.patch(`/v1/scheduled/${scheduled.id}`, { sendAt: inMs(-5) }),
      400,
      "validation_failed",
    );
    const job = await s.parley.store.jobs.getByKey(`scheduled:${scheduled.id}`);
    assert.equal(job?.runAt, sendAt, "the job moved with it");
    assert.equal(ok(await alice.client.delete(`/v1/scheduled/${scheduled.id}`), 204).status, 204);
    assert.equal(
      await s.parley.store.jobs.getByKey(`scheduled:${scheduled.id}`),
      null,
      "nothing left to send",
    );
    assertProblem(await alice.client.delete(`/v1/scheduled/${scheduled.id}`), 404, "not_found");
    assert.deepEqual(ok(await alice.client.get("/v1/users/me/scheduled")).body.scheduled, []);
  },
);

serverTest(
  "a send refused at its time (the author left) fails with a scheduled.failed event",
  async (s) => {
    const [owner, author] = await registerUsers(s.url, 2);
    const group = await createGroup(owner, "Team", [author]);
    const authorWs = await WsClient.connect(s.url, author.accessToken);
    const { scheduled } = ok(
      await author.client.post(`/v1/conversations/${group.id}/scheduled`, {
        clientMsgId: "too-late",
        text: "see you",
        sendAt: inMs(1500),
      }),
      201,
    ).body;
    ok(await owner.client.delete(`/v1/conversations/${group.id}/members/${author.id}`), 204);
    const failed = await authorWs.next((f) => f.event === "scheduled.failed", 6000);
    assert.equal(failed.data.error.code, "not_found");
    assert.equal(failed.data.scheduled.id, scheduled.id);
    const [listed] = ok(await author.client.get("/v1/users/me/scheduled")).body.scheduled;
    assert.equal(listed.status, "failed");
    assert.equal(listed.failure.code, "not_found");
    assertProblem(
      await author.client.patch(`/v1/scheduled/${scheduled.id}`, { text: "x" }),
      409,
      "conflict",
    );
    assert.equal(ok(await author.client.delete(`/v1/scheduled/${scheduled.id}`), 204).status, 204);
    const history = ok(await owner.client.get(`/v1/conversations/${group.id}/messages`)).body;
    assert.ok(!history.messages.some((m: any) => m.clientMsgId === "too-late"));
    await authorWs.close();
  },
);
