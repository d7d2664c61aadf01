import assert from "node:assert/strict";
import { generateApnsKey, startFakeApns } from "../support/fake_apns.ts";
import { generateServiceAccountKey, startFakeFcm } from "../support/fake_fcm.ts";
import { PushService, type ReceivedPush } from "../support/push_service.ts";
import {
  assertProblem,
  Client,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";

const ENV = { OUTBOUND_ALLOW_PRIVATE: "true", PUSH_DELAY_MS: "300" };

/** A server, a local push service that trusts its VAPID key, and helpers to use both. */
async function setup(env: Record<string, string> = {}) {
  const server = await startServer({ ...ENV, ...env });
  const vapid = (await new Client(server.url).get("/v1/push/vapid")).status === 401
    ? (await (await registerUser(server.url)).client.get("/v1/push/vapid")).body.publicKey
    : undefined;
  const service = await PushService.start({ vapidPublicKey: vapid });
  return {
    server,
    service,
    async [Symbol.asyncDispose]() {
      await service.close();
      await server.close();
    },
  };
}

/** Subscribes `user`'s session (a fresh browser subscription); returns its id at the service. */
async function subscribe(service: PushService, user: TestUser): Promise<string> {
  const sub = await service.subscribe(user.username);
  const res = await user.client.post("/v1/push/subscriptions", {
    kind: "webpush",
    endpoint: sub.endpoint,
    keys: sub.keys,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.ok(res.body.id);
  return sub.id;
}

/** How many push jobs the server finished (so "no push" is asserted after the decision). */
async function pushJobsDone(s: TestServer): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = /parley_jobs_total\{kind="push\.message",outcome="done"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function afterJobs(s: TestServer, n: number): Promise<void> {
  await eventually(`${n} push jobs done`, () => pushJobsDone(s), (done) => done >= n, {
    timeoutMs: 10_000,
  });
}

async function direct(a: TestUser, b: TestUser): Promise<string> {
  const res = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body.id;
}

async function send(u: TestUser, conversationId: string, text: string, extra = {}) {
  const res = await u.client.post(`/v1/conversations/${conversationId}/messages`, {
    clientMsgId: crypto.randomUUID(),
    text,
    ...extra,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

function payload(p: ReceivedPush) {
  return JSON.parse(p.payload);
}

Deno.test("push: an offline user gets exactly one push per message, with topic, TTL, urgency and payload", async () => {
  await using t = await setup();
  const [a, b] = [await registerUser(t.server.url), await registerUser(t.server.url)];
  const id = await subscribe(t.service, b);
  const conversationId = await direct(a, b);
  const m1 = await send(a, conversationId, "hello there");
  const m2 = await send(a, conversationId, "second");
  const first = await t.service.waitForPush(1, { subscriptionId: id });
  const second = await t.service.waitForPush(2, { subscriptionId: id });
  await afterJobs(t.server, 2);
  assert.equal(t.service.pushes.length, 2, "one push per message");
  const p = payload(first);
  assert.equal(p.v, 1);
  assert.equal(p.type, "message");
  assert.equal(p.conversationId, conversationId);
  assert.equal(p.messageId, m1.id);
  assert.equal(p.seq, m1.seq);
  assert.ok(p.ackId);
  assert.equal(p.body, "hello there");
  assert.match(p.title, new RegExp(a.username));
  assert.equal(p.badge, 1, "one conversation unread");
  assert.equal(payload(second).messageId, m2.id);
  assert.equal(first.urgency, "high", "direct messages are urgent");
  assert.ok(first.ttl > 0);
  assert.equal(first.topic, second.topic, "one topic per conversation");
  assert.match(first.topic!, /^[A-Za-z0-9_-]{1,32}$/);
  assert.deepEqual(t.service.rejections, []);
  // The sender's own devices get nothing; the client acknowledges what it showed, once.
  assert.equal((await b.client.post("/v1/push/ack", { ackId: p.ackId })).status, 204);
  assertProblem(await b.client.post("/v1/push/ack", { ackId: p.ackId }), 404, "not_found");
  assertProblem(
    await a.client.post("/v1/push/ack", { ackId: payload(second).ackId }),
    404,
    "not_found",
  );
});

Deno.test("push: none while the device has a socket open, or once the user has read it", async () => {
  await using t = await setup({ PUSH_DELAY_MS: "600" });
  const [a, b] = [await registerUser(t.server.url), await registerUser(t.server.url)];
  const id = await subscribe(t.service, b);
  const conversationId = await direct(a, b);
  const ws = await WsClient.connect(t.server.url, b.accessToken);
  await send(a, conversationId, "you are online");
  await ws.event("message.created", conversationId);
  await afterJobs(t.server, 1);
  await ws.close();
  const read = await send(a, conversationId, "read it quickly");
  const r = await b.client.post(`/v1/conversations/${conversationId}/read`, { seq: read.seq });
  assert.ok(r.status === 200 || r.status === 204, JSON.stringify(r.body));
  await afterJobs(t.server, 2);
  const third = await send(a, conversationId, "now offline and unread");
  const got = await t.service.waitForPush(1, { subscriptionId: id });
  await afterJobs(t.server, 3);
  assert.equal(t.service.pushes.length, 1);
  assert.equal(payload(got).messageId, third.id);
});

Deno.test("push: muted and notify none stop pushes; notify mentions lets only mentions through", async () => {
  await using t = await setup();
  const [a, b, c] = [
    await registerUser(t.server.url),
    await registerUser(t.server.url),
    await registerUser(t.server.url),
  ];
  const id = await subscribe(t.service, b);
  const group = await a.client.post("/v1/conversations", {
    type: "group",
    name: "Team",
    memberIds: [b.id, c.id],
  });
  const g = group.body.id;
  const me = await b.client.put(`/v1/conversations/${g}/me`, { muted: true });
  assert.equal(me.status, 200);
  assert.equal(me.body.notify, "all", "groups below 100 members default to all");
  await send(a, g, "muted");
  await afterJobs(t.server, 1);
  assert.equal((await b.client.put(`/v1/conversations/${g}/me`, { muted: false })).status, 200);
  const mentions = await b.client.put(`/v1/conversations/${g}/me`, { notify: "mentions" });
  assert.equal(mentions.body.notify, "mentions");
  await send(a, g, "not about b");
  await afterJobs(t.server, 2);
  const mention = await send(a, g, "hey you", { mentions: [b.id] });
  const got = await t.service.waitForPush(1, { subscriptionId: id });
  assert.equal(payload(got).messageId, mention.id);
  assert.equal(got.urgency, "high", "mentions are urgent");
  await b.client.put(`/v1/conversations/${g}/me`, { notify: "none" });
  await send(a, g, "again", { mentions: [b.id] });
  await afterJobs(t.server, 4);
  assert.equal(t.service.pushes.length, 1);
  const list = await b.client.get("/v1/conversations");
  assert.equal(list.body.conversations.find((x: { id: string }) => x.id === g).notify, "none");
  assertProblem(
    await b.client.put(`/v1/conversations/${g}/me`, { notify: "sometimes" }),
    400,
    "validation_failed",
  );
});

Deno.test("push: quiet hours in the user's zone hold pushes back, except mentions", async () => {
  await using t = await setup();
  const [a, b] = [await registerUser(t.server.url), await registerUser(t.server.url)];
  const id = await subscribe(t.service, b);
  const g = (await a.client.post("/v1/conversations", {
    type: "group",
    name: "Night",
    memberIds: [b.id],
  })).body.id;
  // A window around "now" in a zone far from UTC: quiet whatever the time of day the test runs.
  const zone = "Pacific/Kiritimati";
  const hour = Number(
    new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", hourCycle: "h23" })
      .format(new Date()),
  );
  const hh = (h: number) => `${String((h + 24) % 24).padStart(2, "0")}:00`;
  const set = await b.client.put("/v1/users/me/notifications", {
    quietHours: { start: hh(hour - 1), end: hh(hour + 2), timeZone: zone },
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  await send(a, g, "shh");
  await afterJobs(t.server, 1);
  const mention = await send(a, g, "urgent", { mentions: [b.id] });
  const got = await t.service.waitForPush(1, { subscriptionId: id });
  await afterJobs(t.server, 2);
  assert.equal(t.service.pushes.length, 1);
  assert.equal(payload(got).messageId, mention.id);
  assertProblem(
    await b.client.put("/v1/users/me/notifications", {
      quietHours: { start: "25:00", end: "07:00", timeZone: "Mars/Olympus" },
    }),
    400,
    "validation_failed",
  );
});

Deno.test("push: preview levels decide what the payload shows; keywords notify like mentions", async () => {
  await using t = await setup();
  const [a, b] = [await registerUser(t.server.url), await registerUser(t.server.url)];
  const id = await subscribe(t.service, b);
  const conversationId = await direct(a, b);
  await b.client.put("/v1/users/me/notifications", { preview: "sender" });
  await send(a, conversationId, "secret text");
  const sender = payload(await t.service.waitForPush(1, { subscriptionId: id }));
  assert.match(sender.title, new RegExp(a.username));
  assert.ok(!JSON.stringify(sender).includes("secret text"));
  const none = await b.client.put("/v1/users/me/notifications", { preview: "none" });
  assert.equal(none.body.preview, "none");
  await send(a, conversationId, "more secret text");
  const bare = payload(await t.service.waitForPush(2, { subscriptionId: id }));
  assert.equal(bare.title, undefined);
  assert.equal(bare.body, undefined);
  assert.ok(bare.messageId && bare.conversationId && bare.ackId);

  const g = (await a.client.post("/v1/conversations", {
    type: "group",
    name: "Ops",
    memberIds: [b.id],
  })).body.id;
  await b.client.put(`/v1/conversations/${g}/me`, { notify: "mentions" });
  const kw = await b.client.put("/v1/users/me/notifications", {
    preview: "full",
    keywords: ["Déploiement"],
  });
  assert.deepEqual(kw.body.keywords, ["Déploiement"]);
  await send(a, g, "nothing here");
  await afterJobs(t.server, 3);
  const hit = await send(a, g, "le deploiement est fini");
  const got = payload(await t.service.waitForPush(3, { subscriptionId: id }));
  assert.equal(got.messageId, hit.id);
  assert.equal(got.body, "le deploiement est fini");
  assert.deepEqual((await b.client.get("/v1/users/me/notifications")).body, {
    preview: "full",
    quietHours: null,
    keywords: ["Déploiement"],
  });
});

Deno.test("push: 410 removes the subscription; 500 then 201 delivers once; 429 waits", async () => {
  await using t = await setup();
  const [a, b, c] = [
    await registerUser(t.server.url),
    await registerUser(t.server.url),
    await registerUser(t.server.url),
  ];
  const gone = await subscribe(t.service, b);
  t.service.respond(gone, [410]);
  await send(a, await direct(a, b), "to a dead endpoint");
  await eventually(
    "the dead subscription is removed",
    async () => (await b.client.get("/v1/push/subscriptions")).body.subscriptions.length,
    (n) => n === 0,
  );
  const flaky = await subscribe(t.service, c);
  t.service.respond(flaky, [500, { status: 429, headers: { "retry-after": "1" } }, 201]);
  const m = await send(a, await direct(a, c), "eventually");
  const got = await t.service.waitForPush(1, { subscriptionId: flaky, timeoutMs: 15_000 });
  assert.equal(payload(got).messageId, m.id);
  await eventually("the job is done", () => pushJobsDone(t.server), (n) => n >= 2, {
    timeoutMs: 15_000,
  });
  assert.equal(t.service.pushes.filter((p) => p.subscriptionId === flaky).length, 1);
  const attempts = t.service.requests.filter((r) => r.subscriptionId === flaky);
  assert.deepEqual(attempts.map((r) => r.status), [500, 429, 201]);
});

Deno.test("push: a read on one device sends the others a read push to clear it", async () => {
  await using t = await setup();
  const [a, b] = [await registerUser(t.server.url), await registerUser(t.server.url)];
  const phone = await subscribe(t.service, b);
  const conversationId = await direct(a, b);
  const m = await send(a, conversationId, "read me elsewhere");
  await t.service.waitForPush(1, { subscriptionId: phone });
  // The same user on another device (session) reads it.
  const login = await new Client(t.server.url).post("/v1/auth/login", {
    username: b.username,
    password: b.password,
  });
  const laptop = new Client(t.server.url, login.body.accessToken);
  await laptop.post(`/v1/conversations/${conversationId}/read`, { seq: m.seq });
  const cleared = payload(await t.service.waitForPush(2, { subscriptionId: phone }));
  assert.deepEqual(
    { type: cleared.type, conversationId: cleared.conversationId, seq: cleared.seq },
    { type: "read", conversationId, seq: m.seq },
  );
});

Deno.test("push: subscriptions belong to a session; logout removes them; bad input is refused", async () => {
  await using t = await setup();
  const b = await registerUser(t.server.url);
  const sub = await t.service.subscribe("x");
  const body = { kind: "webpush", endpoint: sub.endpoint, keys: sub.keys };
  const first = await b.client.post("/v1/push/subscriptions", body);
  const again = await b.client.post("/v1/push/subscriptions", body);
  assert.equal(again.body.id, first.body.id, "the same device subscribing again");
  const list = await b.client.get("/v1/push/subscriptions");
  assert.equal(list.body.subscriptions.length, 1);
  assert.equal(list.body.subscriptions[0].current, true);
  assert.equal(list.body.subscriptions[0].kind, "webpush");
  assert.ok(!JSON.stringify(list.body).includes(sub.endpoint), "the endpoint is not echoed");

  for (
    const bad of [
      { ...body, keys: { p256dh: "AAAA", auth: sub.keys.auth } },
      { ...body, keys: { p256dh: sub.keys.p256dh, auth: "not base64!" } },
      { ...body, endpoint: "ftp://push.example/x" },
      { ...body, extra: 1 },
      { kind: "fcm", token: "abc" },
      { kind: "carrier-pigeon" },
    ]
  ) {
    assertProblem(await b.client.post("/v1/push/subscriptions", bad), 400, "validation_failed");
  }
  assertProblem(await b.client.delete("/v1/push/subscriptions/nope"), 404, "not_found");

  // A test push reaches this session.
  const test = await b.client.post("/v1/push/test", {});
  assert.equal(test.status, 202);
  assert.equal(payload(await t.service.waitForPush(1, { subscriptionId: sub.id })).type, "test");

  // Logging out (revoking the session) removes its subscription.
  const other = await new Client(t.server.url).post("/v1/auth/login", {
    username: b.username,
    password: b.password,
  });
  assert.equal((await b.client.post("/v1/auth/logout", {})).status, 204);
  const after = await new Client(t.server.url, other.body.accessToken).get(
    "/v1/push/subscriptions",
  );
  assert.deepEqual(after.body.subscriptions, []);
});

Deno.test("push: endpoints on private addresses are refused unless OUTBOUND_ALLOW_PRIVATE", async () => {
  await using s = await startServer({ OUTBOUND_ALLOW_PRIVATE: "false" });
  const b = await registerUser(s.url);
  await using service = await PushService.start();
  const sub = await service.subscribe("x");
  const res = await b.client.post("/v1/push/subscriptions", {
    kind: "webpush",
    endpoint: sub.endpoint,
    keys: sub.keys,
  });
  assertProblem(res, 400, "validation_failed");
  assert.match(JSON.stringify(res.body), /endpoint/);
});

Deno.test("push: FCM and APNs devices configured from the environment get their pushes", async () => {
  const fcmKey = await generateServiceAccountKey();
  const apnsKey = await generateApnsKey();
  await using fcm = startFakeFcm({
    projectId: "parley-test",
    clientEmail: "push@parley-test.iam.gserviceaccount.com",
    publicKey: fcmKey.publicKey,
  });
  await using apns = startFakeApns({
    teamId: "TEAM123456",
    keyId: "KEY1234567",
    topic: "chat.parley.app",
    publicKey: apnsKey.publicKey,
  });
  await using s = await startServer({
    ...ENV,
    FCM_PROJECT_ID: "parley-test",
    FCM_SERVICE_ACCOUNT: JSON.stringify({
      client_email: "push@parley-test.iam.gserviceaccount.com",
      private_key: fcmKey.privateKeyPem,
      token_uri: fcm.tokenUri,
    }),
    FCM_BASE_URL: fcm.baseUrl,
    APNS_KEY_ID: "KEY1234567",
    APNS_TEAM_ID: "TEAM123456",
    APNS_PRIVATE_KEY: apnsKey.privateKeyPem,
    APNS_TOPIC: "chat.parley.app",
    APNS_BASE_URL: apns.baseUrl,
  });
  const [a, b] = [await registerUser(s.url), await registerUser(s.url)];
  const android = await b.client.post("/v1/push/subscriptions", {
    kind: "fcm",
    token: "android-device-token-1",
  });
  assert.equal(android.status, 201, JSON.stringify(android.body));
  const login = await new Client(s.url).post("/v1/auth/login", {
    username: b.username,
    password: b.password,
  });
  const iphone = "a1".repeat(32);
  const ios = await new Client(s.url, login.body.accessToken).post("/v1/push/subscriptions", {
    kind: "apns",
    token: iphone,
  });
  assert.equal(ios.status, 201, JSON.stringify(ios.body));
  const m = await send(a, await direct(a, b), "to both phones");
  const toAndroid = await fcm.nthRequest(1);
  const toIphone = await apns.nthRequest(1);
  assert.equal(toAndroid.body.message.token, "android-device-token-1");
  assert.equal(toAndroid.body.message.data.messageId, m.id);
  assert.equal(toAndroid.body.message.android.priority, "high");
  assert.equal(
    toAndroid.body.message.notification?.body ?? toAndroid.body.message.android.notification?.body,
    "to both phones",
  );
  assert.equal(toIphone.deviceToken, iphone);
  assert.equal(toIphone.body.messageId, m.id);
  assert.equal(toIphone.body.aps.alert.body, "to both phones");
  assert.equal(toIphone.headers["apns-topic"], "chat.parley.app");
  assert.deepEqual(fcm.problems, []);
  assert.deepEqual(apns.problems, []);
});

Deno.test("push: a user who blocks the sender gets no push of their messages in a shared group", async () => {
  await using t = await setup();
  const [a, b, c] = [
    await registerUser(t.server.url),
    await registerUser(t.server.url),
    await registerUser(t.server.url),
  ];
  const id = await subscribe(t.service, b);
  const g = (await a.client.post("/v1/conversations", {
    type: "group",
    name: "Shared",
    memberIds: [b.id, c.id],
  })).body.id;
  assert.equal((await b.client.put(`/v1/users/me/blocks/${a.id}`, {})).status, 204);
  await send(a, g, "from someone b blocks", { mentions: [b.id] });
  await afterJobs(t.server, 1);
  const fromC = await send(c, g, "from c");
  const got = await t.service.waitForPush(1, { subscriptionId: id });
  await afterJobs(t.server, 2);
  assert.equal(t.service.pushes.length, 1);
  assert.equal(payload(got).messageId, fromC.id);
});
