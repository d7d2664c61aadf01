import assert from "node:assert/strict";
import { ApnsProvider } from "../../src/push/apns.ts";
import type { PushMessage, PushOutcome } from "../../src/push/provider.ts";
import { OutboundClient } from "../../src/net/outbound.ts";
import { createLogger } from "../../src/observability/logger.ts";
import {
  type ApnsReply,
  type FakeApns,
  generateApnsKey,
  startFakeApns,
} from "../support/fake_apns.ts";
import { sanitized } from "../support/sanitizers.ts";

const TEAM = "TEAM123456";
const KEY_ID = "KEY1234567";
const BUNDLE = "chat.parley.ios";
const key = await generateApnsKey();

/** A 64-hex-digit device token, distinct per `n`. */
function device(n: number): string {
  return n.toString(16).padStart(64, "0");
}

function outbound(allowPrivate = true): OutboundClient {
  return new OutboundClient({
    allowPrivate,
    httpsOnly: false,
    logger: createLogger({ level: "error", write: () => {} }),
  });
}

/** A fake APNs and a provider pointed at it; the provider's clock may lag the fake's by `skewMs`. */
function setup(
  options: {
    privateKey?: string;
    keyId?: string;
    allowPrivate?: boolean;
    skewMs?: number;
    /** How far every reading of the provider's clock moves it on. */
    tickMs?: number;
  } = {},
) {
  const clock = { now: Date.UTC(2025, 0, 1, 12) };
  const fake = startFakeApns({
    teamId: TEAM,
    keyId: KEY_ID,
    topic: BUNDLE,
    publicKey: key.publicKey,
    now: () => clock.now,
  });
  const provider = new ApnsProvider({
    keyId: options.keyId ?? KEY_ID,
    teamId: TEAM,
    privateKey: options.privateKey ?? key.privateKeyPem,
    topic: BUNDLE,
    baseUrl: fake.baseUrl,
    outbound: outbound(options.allowPrivate),
    now: () => (clock.now += options.tickMs ?? 0) - (options.skewMs ?? 0),
  });
  return { clock, fake, provider };
}

const silent: PushMessage = { payload: { kind: "sync" }, ttlSeconds: 60, urgency: "normal" };

function send(provider: ApnsProvider, token: string, message: PushMessage = silent) {
  return provider.send({ kind: "apns", token }, message);
}

function noProblems(fake: FakeApns): void {
  assert.deepEqual(fake.problems, [], "the fake refused a request");
}

Deno.test(
  "ApnsProvider sends an alert with every APNs header and a verified ES256 provider token",
  sanitized,
  async () => {
    const { clock, fake, provider } = setup();
    await using _ = fake;
    const outcome = await send(provider, device(1), {
      payload: { conversationId: "c1", seq: 42 },
      ttlSeconds: 3600,
      urgency: "high",
      topic: "c1",
      badge: 3,
      alert: { title: "Ada", body: "Hello" },
    });
    assert.deepEqual(outcome, { status: "sent" });
    noProblems(fake);
    const request = await fake.nthRequest(1);
    assert.equal(request.deviceToken, device(1));
    assert.equal(request.headers["authorization"], `bearer ${request.providerToken}`);
    assert.equal(request.headers["apns-topic"], BUNDLE);
    assert.equal(request.headers["apns-push-type"], "alert");
    assert.equal(request.headers["apns-priority"], "10");
    assert.equal(request.headers["apns-expiration"], String(Math.floor(clock.now / 1000) + 3600));
    assert.equal(request.headers["apns-collapse-id"], "c1");
    assert.deepEqual(request.jwtHeader, { alg: "ES256", kid: KEY_ID });
    assert.deepEqual(request.claims, { iss: TEAM, iat: Math.floor(clock.now / 1000) });
    assert.deepEqual(request.body, {
      conversationId: "c1",
      seq: 42,
      aps: { alert: { title: "Ada", body: "Hello" }, badge: 3, "mutable-content": 1 },
    });
  },
);

Deno.test(
  "ApnsProvider sends a silent push as background, priority 5, without a collapse id",
  sanitized,
  async () => {
    const { fake, provider } = setup();
    await using _ = fake;
    const normalAlert = { ...silent, alert: { body: "Hi" } };
    const outcomes = [
      await send(provider, device(1), { ...silent, urgency: "high" }),
      await send(provider, device(1), normalAlert),
      await send(provider, device(1), { ...silent, ttlSeconds: 0, payload: { aps: "spoofed" } }),
    ];
    assert.ok(outcomes.every((o) => o.status === "sent"), JSON.stringify(outcomes));
    noProblems(fake);
    const [background, alert, once] = fake.received;
    assert.equal(background.headers["apns-push-type"], "background");
    assert.equal(
      background.headers["apns-priority"],
      "5",
      "priority 10 is an error for background",
    );
    assert.equal(background.headers["apns-collapse-id"], undefined);
    assert.deepEqual(background.body, { kind: "sync", aps: { "content-available": 1 } });
    assert.equal(alert.headers["apns-priority"], "5", "an alert that is not urgent");
    assert.equal(once.headers["apns-expiration"], "0");
    assert.deepEqual(once.body.aps, { "content-available": 1 }, "the payload cannot replace aps");
  },
);

Deno.test(
  "ApnsProvider reuses one provider token, concurrent sends included, and mints a new one after 50 minutes",
  sanitized,
  async () => {
    const { clock, fake, provider } = setup();
    await using _ = fake;
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(provider, device(i))),
    );
    assert.ok(burst.every((o) => o.status === "sent"));
    clock.now += 49 * 60_000;
    await send(provider, device(1));
    assert.equal(fake.providerTokens, 1);
    clock.now += 60_000;
    await send(provider, device(1));
    await send(provider, device(2));
    await fake.nthRequest(13);
    noProblems(fake);
    assert.equal(fake.providerTokens, 2);
    assert.equal(fake.received[12].claims?.iat, Math.floor(clock.now / 1000));
  },
);

Deno.test(
  "ApnsProvider mints one provider token for a burst of first sends while the clock moves",
  sanitized,
  async () => {
    // Seconds pass between the sends: tokens minted one per send would differ and be refused.
    const { fake, provider } = setup({ tickMs: 1_000 });
    await using _ = fake;
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(provider, device(i))),
    );
    assert.ok(burst.every((o) => o.status === "sent"), JSON.stringify(burst));
    await fake.nthRequest(10);
    noProblems(fake);
    assert.equal(fake.providerTokens, 1);
  },
);

Deno.test(
  "ApnsProvider replaces the provider token at once after 403 ExpiredProviderToken and sends again",
  sanitized,
  async () => {
    const { clock, fake, provider } = setup();
    await using _ = fake;
    await send(provider, device(1));
    // Apple refuses a new token sooner than 20 minutes after the last one.
    clock.now += 21 * 60_000;
    fake.script(device(1), [{ status: 403, reason: "ExpiredProviderToken" }]);
    assert.deepEqual(await send(provider, device(1)), { status: "sent" });
    noProblems(fake);
    assert.deepEqual(fake.received.map((r) => r.answered), [200, 403, 200]);
    assert.equal(fake.received[1].providerToken, fake.received[0].providerToken);
    assert.notEqual(fake.received[2].providerToken, fake.received[1].providerToken);
    assert.equal(fake.providerTokens, 2);
  },
);

Deno.test(
  "ApnsProvider asks for a retry when a fresh provider token is expired too (a clock two hours behind)",
  sanitized,
  async () => {
    const { fake, provider } = setup({ skewMs: 2 * 3600_000 });
    await using _ = fake;
    const outcome = await send(provider, device(1));
    assert.equal(outcome.status, "retry");
    assert.equal(fake.received.length, 2, "one resend with a new token, not a loop");
    assert.deepEqual(fake.problems.map((p) => p.split(":")[0]), [
      "403 ExpiredProviderToken",
      "403 ExpiredProviderToken",
    ]);
  },
);

Deno.test("ApnsProvider maps APNs answers to gone, retry and rejected", sanitized, async () => {
  const { fake, provider } = setup();
  await using _ = fake;
  const cases: [ApnsReply[], Partial<Record<string, unknown>>][] = [
    [[{ status: 410, reason: "Unregistered" }], {
      status: "gone",
      detail: "APNs 410 Unregistered",
    }],
    [[{ status: 400, reason: "BadDeviceToken" }], { status: "gone" }],
    [[{ status: 400, reason: "Unregistered" }], { status: "gone" }],
    [[{ status: 503, reason: "ServiceUnavailable", retryAfter: "5" }], {
      status: "retry",
      retryAfterMs: 5000,
    }],
    [[{ status: 429, reason: "TooManyRequests" }], { status: "retry", retryAfterMs: undefined }],
    [[{ status: 500, reason: "InternalServerError" }], { status: "retry" }],
    [[{ status: 400, reason: "DeviceTokenNotForTopic" }], {
      status: "rejected",
      detail: "APNs 400 DeviceTokenNotForTopic",
    }],
    [[{ status: 403, reason: "InvalidProviderToken" }], { status: "rejected" }],
  ];
  for (const [i, [replies, expected]] of cases.entries()) {
    fake.script(device(i), replies);
    const outcome: PushOutcome = await send(provider, device(i));
    for (const [field, value] of Object.entries(expected)) {
      assert.equal(
        (outcome as Record<string, unknown>)[field],
        value,
        `${JSON.stringify(replies)} → ${JSON.stringify(outcome)}`,
      );
    }
  }
  assert.deepEqual(await send(provider, device(3)), { status: "sent" }, "after the 503: 200");
  noProblems(fake);
  assert.equal(fake.providerTokens, 1);

  const tooLarge = await send(provider, device(20), {
    ...silent,
    payload: { text: "x".repeat(5000) },
  });
  assert.deepEqual(tooLarge, { status: "rejected", detail: "APNs 413 PayloadTooLarge" });
  const notHex = await send(provider, "../../4/other");
  assert.equal(notHex.status, "gone");
  assert.equal(fake.received.length, cases.length + 2, "the non-hex token was never sent");
});

Deno.test(
  "ApnsProvider is rejected with a key or key id Apple does not know",
  sanitized,
  async () => {
    const stranger = await generateApnsKey();
    const wrongKey = setup({ privateKey: stranger.privateKeyPem });
    await using _a = wrongKey.fake;
    assert.deepEqual(await send(wrongKey.provider, device(1)), {
      status: "rejected",
      detail: "APNs 403 InvalidProviderToken",
    });
    assert.match(wrongKey.fake.problems[0], /signature verification failed/);

    const wrongKid = setup({ keyId: "OTHERKEY00" });
    await using _b = wrongKid.fake;
    assert.equal((await send(wrongKid.provider, device(1))).status, "rejected");
    assert.match(wrongKid.fake.problems[0], /InvalidProviderToken: header/);

    const broken = setup({ privateKey: "not a key" });
    await using _c = broken.fake;
    assert.equal((await send(broken.provider, device(1))).status, "rejected");
    assert.equal(broken.fake.received.length, 0);
  },
);

Deno.test(
  "ApnsProvider rejects a push whose base URL the outbound guard refuses, sending nothing",
  sanitized,
  async () => {
    const { fake, provider } = setup({ allowPrivate: false });
    await using _ = fake;
    const outcome = await send(provider, device(1));
    assert.equal(outcome.status, "rejected");
    assert.match(outcome.status === "rejected" ? outcome.detail : "", /refused: .*not a public/);
    assert.equal(fake.received.length, 0);
  },
);

Deno.test("ApnsProvider asks for a retry when APNs cannot be reached", sanitized, async () => {
  const closed = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const { port } = closed.addr;
  await closed.shutdown();
  const provider = new ApnsProvider({
    keyId: KEY_ID,
    teamId: TEAM,
    privateKey: key.privateKeyPem,
    topic: BUNDLE,
    baseUrl: `http://127.0.0.1:${port}`,
    outbound: outbound(),
  });
  assert.equal((await send(provider, device(1))).status, "retry");
});

Deno.test("ApnsProvider rejects targets of other kinds", sanitized, async () => {
  const { fake, provider } = setup();
  await using _ = fake;
  assert.equal((await provider.send({ kind: "fcm", token: "ab" }, silent)).status, "rejected");
  assert.equal(fake.received.length, 0);
});
