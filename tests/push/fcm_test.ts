import assert from "node:assert/strict";
import { FcmProvider } from "../../src/push/fcm.ts";
import type { PushMessage } from "../../src/push/provider.ts";
import { OutboundClient } from "../../src/net/outbound.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type FakeFcm, generateServiceAccountKey, startFakeFcm } from "../support/fake_fcm.ts";
import { sanitized } from "../support/sanitizers.ts";

const PROJECT = "parley-test";
const EMAIL = "push@parley-test.iam.gserviceaccount.com";
const key = await generateServiceAccountKey();

function outbound(allowPrivate = true): OutboundClient {
  return new OutboundClient({
    allowPrivate,
    httpsOnly: false,
    logger: createLogger({ level: "error", write: () => {} }),
  });
}

/** A fake FCM and a provider pointed at it, sharing a clock the test moves. */
function setup(
  options: { privateKeyPem?: string; allowPrivate?: boolean; expiresInSeconds?: number } = {},
) {
  const clock = { now: Date.UTC(2025, 0, 1, 12) };
  const fake = startFakeFcm({
    projectId: PROJECT,
    clientEmail: EMAIL,
    publicKey: key.publicKey,
    expiresInSeconds: options.expiresInSeconds,
    now: () => clock.now,
  });
  const provider = new FcmProvider({
    projectId: PROJECT,
    serviceAccount: {
      client_email: EMAIL,
      private_key: options.privateKeyPem ?? key.privateKeyPem,
      token_uri: fake.tokenUri,
    },
    baseUrl: fake.baseUrl,
    outbound: outbound(options.allowPrivate),
    now: () => clock.now,
  });
  return { clock, fake, provider };
}

const silent: PushMessage = { payload: { kind: "sync" }, ttlSeconds: 60, urgency: "normal" };

function send(provider: FcmProvider, token: string, message: PushMessage = silent) {
  return provider.send({ kind: "fcm", token }, message);
}

function noProblems(fake: FakeFcm): void {
  assert.deepEqual(fake.problems, [], "the fake refused a request");
}

Deno.test(
  "FcmProvider sends the FCM v1 message with a token from a verified service-account assertion",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    const outcome = await send(provider, "device-a", {
      payload: { conversationId: "c1", seq: 42, mention: true, nested: { a: 1 } },
      ttlSeconds: 3600,
      urgency: "high",
      topic: "c1",
      badge: 3,
      alert: { title: "Ada", body: "Hello" },
    });
    assert.deepEqual(outcome, { status: "sent" });
    noProblems(fake);
    const request = await fake.nthRequest(1);
    assert.equal(fake.tokenRequests, 1);
    assert.match(request.headers["authorization"], /^Bearer ya29\.fake-/);
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.path, `/v1/projects/${PROJECT}/messages:send`);
    assert.deepEqual(request.body, {
      message: {
        token: "device-a",
        data: { conversationId: "c1", seq: "42", mention: "true", nested: '{"a":1}' },
        android: {
          priority: "high",
          ttl: "3600s",
          collapse_key: "c1",
          notification: { title: "Ada", body: "Hello", notification_count: 3 },
        },
      },
    });
    const [claims] = fake.assertions;
    assert.equal(claims.iss, EMAIL);
    assert.equal(claims.aud, fake.tokenUri);
    assert.equal(claims.scope, "https://www.googleapis.com/auth/firebase.messaging");
    assert.equal(claims.exp! - claims.iat!, 3600);
  },
);

Deno.test(
  "FcmProvider sends a silent push without a notification, at normal priority, with no collapse key",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    assert.deepEqual(await send(provider, "device-a", { ...silent, urgency: "high", badge: 2 }), {
      status: "sent",
    });
    assert.deepEqual(await send(provider, "device-a", { ...silent, urgency: "very-low" }), {
      status: "sent",
    });
    noProblems(fake);
    assert.deepEqual((await fake.nthRequest(1)).body.message.android, {
      priority: "high",
      ttl: "60s",
    });
    assert.equal((await fake.nthRequest(2)).body.message.android.priority, "normal");
  },
);

Deno.test(
  "FcmProvider fetches one access token for many sends, concurrent ones included",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(provider, `device-${i}`)),
    );
    for (let i = 0; i < 5; i++) await send(provider, "device-a");
    assert.ok(outcomes.every((o) => o.status === "sent"));
    await fake.nthRequest(15);
    noProblems(fake);
    assert.equal(fake.tokenRequests, 1);
    assert.equal(new Set(fake.received.map((r) => r.accessToken)).size, 1);
  },
);

Deno.test(
  "FcmProvider refreshes the access token five minutes before expires_in ends",
  sanitized,
  async () => {
    const { clock, fake, provider } = setup({ expiresInSeconds: 3600 });
    await using _ = fake;
    await send(provider, "device-a");
    clock.now += 54 * 60_000;
    await send(provider, "device-a");
    assert.equal(fake.tokenRequests, 1, "still cached 6 minutes before expiry");
    clock.now += 60_000 + 1;
    await send(provider, "device-a");
    assert.equal(fake.tokenRequests, 2, "refreshed inside the last 5 minutes");
    noProblems(fake);
    const [first, second, third] = fake.received.map((r) => r.accessToken);
    assert.equal(first, second);
    assert.notEqual(second, third);
    // The new assertion was minted on the provider's clock.
    assert.equal(fake.assertions[1].iat, Math.floor(clock.now / 1000));
  },
);

Deno.test(
  "FcmProvider drops the token after a 401, fetches a new one and sends once more",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    await send(provider, "device-a");
    fake.revokeAccessTokens();
    assert.deepEqual(await send(provider, "device-a"), { status: "sent" });
    assert.equal(fake.tokenRequests, 2);
    assert.deepEqual(fake.received.map((r) => r.answered), [200, 401, 200]);
    assert.notEqual(fake.received[1].accessToken, fake.received[2].accessToken);

    fake.script("device-b", [{ status: 401 }, { status: 401 }]);
    const twice = await send(provider, "device-b");
    assert.equal(twice.status, "retry", "a fresh token refused as well: try later, not in a loop");
    assert.equal(fake.tokenRequests, 3);
    assert.equal(fake.received.length, 5);
  },
);

Deno.test("FcmProvider maps FCM answers to gone, retry and rejected", sanitized, async () => {
  const { fake, provider } = setup();
  await using _ = fake;
  const cases: [string, Parameters<FakeFcm["script"]>[1], Record<string, unknown>][] = [
    ["not-found", [{ status: 404 }], { status: "gone" }],
    ["unregistered", [{ status: 400, errorCode: "UNREGISTERED" }], { status: "gone" }],
    ["unavailable", [{ status: 503, retryAfter: "7" }], { status: "retry", retryAfterMs: 7000 }],
    [
      "quota",
      [{ status: 429, errorCode: "QUOTA_EXCEEDED", retryAfter: "30" }],
      { status: "retry", retryAfterMs: 30_000 },
    ],
    ["internal", [{ status: 500, errorCode: "INTERNAL" }], { status: "retry" }],
    ["invalid", [{ status: 400, errorCode: "INVALID_ARGUMENT" }], { status: "rejected" }],
    ["mismatch", [{ status: 403, errorCode: "SENDER_ID_MISMATCH" }], { status: "rejected" }],
  ];
  for (const [token, replies, expected] of cases) {
    fake.script(token, replies);
    const outcome = await send(provider, token);
    for (const [field, value] of Object.entries(expected)) {
      assert.equal(
        (outcome as Record<string, unknown>)[field],
        value,
        `${token}: ${JSON.stringify(outcome)}`,
      );
    }
  }
  const internal = await send(provider, "internal");
  assert.deepEqual(internal, { status: "sent" }, "the script is used up: 200 again");
  noProblems(fake);
  assert.equal(fake.tokenRequests, 1);
});

Deno.test(
  "FcmProvider retries when the token endpoint is unavailable, and is rejected with a key Google does not know",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    fake.scriptTokenEndpoint([{ status: 503, retryAfter: "12" }]);
    const unavailable = await send(provider, "device-a");
    assert.equal(unavailable.status, "retry");
    assert.equal(unavailable.status === "retry" && unavailable.retryAfterMs, 12_000);
    assert.deepEqual(await send(provider, "device-a"), { status: "sent" });

    const stranger = await generateServiceAccountKey();
    const other = setup({ privateKeyPem: stranger.privateKeyPem });
    await using _other = other.fake;
    const refused = await send(other.provider, "device-a");
    assert.equal(refused.status, "rejected");
    assert.match(refused.status === "rejected" ? refused.detail : "", /invalid_grant/);
    assert.equal(other.fake.problems.length, 1);
    assert.match(other.fake.problems[0], /signature verification failed/);
    assert.equal(other.fake.received.length, 0);

    const broken = setup({ privateKeyPem: "not a key" });
    await using _broken = broken.fake;
    assert.equal((await send(broken.provider, "device-a")).status, "rejected");
    assert.equal(broken.fake.tokenRequests, 0);
  },
);

Deno.test(
  "FcmProvider rejects a push whose endpoints the outbound guard refuses, sending nothing",
  sanitized,
  async () => {
    const { fake, provider } = setup({ allowPrivate: false });
    await using _ = fake;
    const outcome = await send(provider, "device-a");
    assert.equal(outcome.status, "rejected");
    assert.match(outcome.status === "rejected" ? outcome.detail : "", /refused: .*not a public/);
    assert.equal(fake.tokenRequests, 0);
    assert.equal(fake.received.length, 0);
  },
);

Deno.test("FcmProvider asks for a retry when FCM cannot be reached", sanitized, async () => {
  const closed = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const { port } = closed.addr;
  await closed.shutdown();
  const provider = new FcmProvider({
    projectId: PROJECT,
    serviceAccount: {
      client_email: EMAIL,
      private_key: key.privateKeyPem,
      token_uri: `http://127.0.0.1:${port}/token`,
    },
    baseUrl: `http://127.0.0.1:${port}`,
    outbound: outbound(),
  });
  assert.equal((await send(provider, "device-a")).status, "retry");
});

Deno.test("FcmProvider rejects targets of other kinds", sanitized, async () => {
  const { fake, provider } = setup();
  await using _ = fake;
  const outcome = await provider.send({ kind: "apns", token: "ab" }, silent);
  assert.equal(outcome.status, "rejected");
  assert.equal(fake.tokenRequests, 0);
});
