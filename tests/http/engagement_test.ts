import assert from "node:assert/strict";
import { uploadSettled } from "../support/media.ts";
import { png } from "../support/media_fixtures.ts";
import { makeAdmin } from "../support/privacy.ts";
import { sharedRedis } from "../support/redis.ts";
import {
  assertProblem,
  Client,
  createGroup,
  registerUser,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const redis = await sharedRedis();
addEventListener("unload", () => void redis.close());

/** Activity scripted over past days through the activity service, which takes the time. */
function scriptPastDays(s: TestServer): void {
  const activity = s.parley.services.activity;
  const at = (day: string) => new Date(`${day}T12:00:00.000Z`);
  for (const u of ["scripted-a", "scripted-b"]) activity.seen(u, at("2025-03-01"));
  activity.seen("scripted-b", at("2025-03-03"));
  activity.seen("scripted-c", at("2025-03-03"));
  activity.seen("scripted-d", at("2025-03-08"));
  activity.seen("scripted-a", at("2025-03-09"));
  activity.messageSent([], at("2025-03-01"));
  activity.messageSent(["video", "audio"], at("2025-03-01"));
  activity.registered(at("2025-03-09"));
}

/** DAU/WAU/MAU of the scripted days, worked out by hand. */
const SCRIPTED = {
  daily: [2, 0, 2, 0, 0, 0, 0, 1, 1],
  weekly: [2, 2, 3, 3, 3, 3, 3, 3, 4],
  monthly: [2, 2, 3, 3, 3, 3, 3, 4, 4],
};

async function checkScripted(admin: TestUser, exact: boolean): Promise<void> {
  const res = await admin.client.get("/v1/admin/metrics?from=2025-03-01&to=2025-03-09");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.exact, exact);
  const days = res.body.days;
  assert.deepEqual(days.map((d: any) => d.date), [
    "2025-03-01",
    "2025-03-02",
    "2025-03-03",
    "2025-03-04",
    "2025-03-05",
    "2025-03-06",
    "2025-03-07",
    "2025-03-08",
    "2025-03-09",
  ]);
  assert.deepEqual(days.map((d: any) => d.activeUsers.daily), SCRIPTED.daily, "DAU");
  assert.deepEqual(days.map((d: any) => d.activeUsers.weekly), SCRIPTED.weekly, "WAU");
  assert.deepEqual(days.map((d: any) => d.activeUsers.monthly), SCRIPTED.monthly, "MAU");
  assert.deepEqual(days[0].mediaShared, { image: 0, video: 1, audio: 1, document: 0 });
  assert.equal(days[0].messagesSent, 2);
  assert.deepEqual(days.map((d: any) => d.registrations), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(days.slice(1).map((d: any) => d.messagesSent), [0, 0, 0, 0, 0, 0, 0, 0]);
}

serverTest(
  "admin metrics: a scripted day of requests, socket frames, messages, media and registrations adds up; past days give DAU/WAU/MAU; /metrics exports them",
  async (s) => {
    const admin = await registerUser(s.url);
    await makeAdmin(s, admin);
    const [u1, u2, u3, _u4, u5] = [
      await registerUser(s.url),
      await registerUser(s.url),
      await registerUser(s.url),
      await registerUser(s.url), // registers, then does nothing: not active
      await registerUser(s.url),
    ];
    const group = (await createGroup(u1, "Metrics", [u2])).id;
    const images = [
      await uploadSettled(u1.client, await png(20, 20)),
      await uploadSettled(u1.client, await png(30, 20)),
    ];
    const doc = await uploadSettled(u1.client, new TextEncoder().encode("a document"), {
      type: "text/plain",
    });
    const post = (u: TestUser, body: Record<string, unknown>) =>
      u.client.post(`/v1/conversations/${group}/messages`, body);
    assert.equal((await post(u1, { clientMsgId: "m1", text: "hi" })).status, 201);
    assert.equal(
      (await post(u1, { clientMsgId: "m2", mediaIds: images.map((i) => i.id) })).status,
      201,
    );
    assert.equal((await post(u1, { clientMsgId: "m3", mediaIds: [doc.id] })).status, 201);
    assert.equal((await post(u2, { clientMsgId: "m4", text: "yo" })).status, 201);
    assert.equal((await post(u2, { clientMsgId: "m4", text: "yo" })).status, 200, "a retry");
    assert.equal((await u3.client.get("/v1/users/me")).status, 200);
    const ws = await WsClient.connect(s.url, u5.accessToken);
    assert.equal((await ws.request({ type: "ping" })).ok, true);
    await ws.close();

    assertProblem(
      await u1.client.get("/v1/admin/metrics?from=2025-01-01&to=2025-01-02"),
      403,
      "forbidden",
    );
    const today = new Date().toISOString().slice(0, 10);
    const res = await admin.client.get(`/v1/admin/metrics?from=${today}&to=${today}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.exact, true, "the embedded store counts exactly");
    const [day] = res.body.days;
    assert.deepEqual(day, {
      date: today,
      activeUsers: { daily: 5, weekly: 5, monthly: 5 },
      messagesSent: 4,
      mediaShared: { image: 2, video: 0, audio: 0, document: 1 },
      registrations: 6,
    });

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    for (
      const line of [
        'parley_active_users{window="day"} 5',
        'parley_active_users{window="month"} 5',
        "parley_messages_sent_total 4",
        'parley_media_shared_total{kind="image"} 2',
        'parley_media_shared_total{kind="document"} 1',
        "parley_registrations_total 6",
      ]
    ) assert.ok(metrics.split("\n").includes(line), `/metrics has ${line}`);

    scriptPastDays(s);
    await checkScripted(admin, true);

    const bad = (q: string) => admin.client.get(`/v1/admin/metrics?${q}`);
    assertProblem(await bad("from=2025-03-02&to=2025-03-01"), 400, "validation_failed");
    assertProblem(await bad("from=2025-02-30&to=2025-03-01"), 400, "validation_failed");
    assertProblem(await bad("from=2024-01-01&to=2025-03-01"), 400, "validation_failed");
    assertProblem(await bad("from=2025-03-01"), 400, "validation_failed");
    assertProblem(
      await new Client(s.url).get(`/v1/admin/metrics?from=${today}&to=${today}`),
      401,
      "unauthorized",
    );
  },
);

serverTest("with REDIS_URL the same figures come from HyperLogLog day keys (marked as estimates)", {
  env: { REDIS_URL: redis.url, REDIS_PREFIX: `test:${crypto.randomUUID().slice(0, 8)}:` },
}, async (s) => {
  const admin = await registerUser(s.url);
  await makeAdmin(s, admin);
  scriptPastDays(s);
  await checkScripted(admin, false);
});
