import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createECDH } from "node:crypto";
import ece from "http_ece";
import { decodeBase64 } from "../../src/domain/encoding.ts";
import { OutboundClient } from "../../src/net/outbound.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { PushMessage, PushTarget } from "../../src/push/provider.ts";
import {
  generateVapidKeys,
  MAX_PAYLOAD_BYTES,
  type VapidKeyPair,
  WebPushProvider,
} from "../../src/push/webpush.ts";
import { newSubscription, PushService, type TestSubscription } from "../support/push_service.ts";
import { sanitized } from "../support/sanitizers.ts";

/** RFC 8291 §5 ("Push Message Encryption Example") and Appendix A. */
const RFC8291 = {
  plaintext: "When I grow up, I want to be a watermelon",
  senderPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  senderPublic:
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  receiverPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
  receiverPublic:
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  authSecret: "BTBZMqHH6r4Tts7J_aSIgg",
  message: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLoc" +
    "InmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexS" +
    "gSxsj_Qulcy4a-fN",
};

function ecdhFrom(privateKey: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(privateKey, "base64url"));
  return ecdh;
}

Deno.test("http_ece reproduces the RFC 8291 §5 message byte for byte and decrypts it back", () => {
  const sender = ecdhFrom(RFC8291.senderPrivate);
  const receiver = ecdhFrom(RFC8291.receiverPrivate);
  assert.equal(sender.getPublicKey().toString("base64url"), RFC8291.senderPublic);
  assert.equal(receiver.getPublicKey().toString("base64url"), RFC8291.receiverPublic);

  const encrypted: Buffer = ece.encrypt(Buffer.from(RFC8291.plaintext), {
    version: "aes128gcm",
    privateKey: sender,
    dh: RFC8291.receiverPublic,
    salt: RFC8291.salt,
    authSecret: RFC8291.authSecret,
    rs: 4096,
  });
  assert.equal(encrypted.toString("base64url"), RFC8291.message);

  const decrypted: Buffer = ece.decrypt(Buffer.from(RFC8291.message, "base64url"), {
    version: "aes128gcm",
    privateKey: receiver,
    authSecret: RFC8291.authSecret,
  });
  assert.equal(decrypted.toString("utf8"), RFC8291.plaintext);
});

Deno.test("generateVapidKeys() gives an uncompressed P-256 point and a 32-byte scalar", async () => {
  const keys = await generateVapidKeys();
  const point = decodeBase64(keys.publicKey);
  assert.equal(point.length, 65);
  assert.equal(point[0], 4);
  assert.equal(decodeBase64(keys.privateKey).length, 32);
  assert.doesNotMatch(keys.publicKey + keys.privateKey, /[+/=]/);
  // The pair is usable: a provider built on it signs tokens the push service accepts (below).
});

const quiet = createLogger({ level: "error", write: () => {} });

function outbound(allowPrivate = true): OutboundClient {
  return new OutboundClient({ allowPrivate, httpsOnly: false, logger: quiet });
}

function message(payload: Record<string, unknown>, extra: Partial<PushMessage> = {}): PushMessage {
  return { payload, ttlSeconds: 3600, urgency: "normal", ...extra };
}

function target(sub: TestSubscription): Extract<PushTarget, { kind: "webpush" }> {
  return { kind: "webpush", endpoint: sub.endpoint, keys: sub.keys };
}

/** A push service expecting `keys`, a provider using them, and one subscription. */
async function setup(options: { now?: () => number; allowPrivate?: boolean } = {}) {
  const keys: VapidKeyPair = await generateVapidKeys();
  const service = await PushService.start({ vapidPublicKey: keys.publicKey });
  const provider = new WebPushProvider({
    vapid: { ...keys, subject: "mailto:ops@parley.example" },
    outbound: outbound(options.allowPrivate ?? true),
    now: options.now,
  });
  const sub = await newSubscription(service, "alice");
  return {
    keys,
    service,
    provider,
    sub,
    [Symbol.asyncDispose]: () => service.close(),
  };
}

Deno.test(
  "webpush: the payload round-trips encrypted, with TTL, Urgency, Topic and a verified VAPID token",
  sanitized,
  async () => {
    await using t = await setup();
    const payload = { kind: "message", conversationId: "c1", text: "héllo 👋" };
    const outcome = await t.provider.send(
      target(t.sub),
      message(payload, { ttlSeconds: 600, urgency: "high", topic: "conv-c1" }),
    );
    assert.deepEqual(outcome, { status: "sent" });
    const push = await t.service.waitForPush(1);
    assert.equal(push.subscriptionId, t.sub.id);
    assert.deepEqual(JSON.parse(push.payload), payload);
    assert.equal(push.ttl, 600);
    assert.equal(push.urgency, "high");
    assert.equal(push.topic, "conv-c1");
    assert.equal(push.claims.aud, t.service.origin);
    assert.equal(push.claims.sub, "mailto:ops@parley.example");
    const hoursLeft = (push.claims.exp - Date.now() / 1000) / 3600;
    assert.ok(hoursLeft > 11.9 && hoursLeft <= 12, `exp ${hoursLeft} h ahead`);
    assert.deepEqual(t.service.rejections, []);
  },
);

Deno.test("webpush: no Topic header is sent when the message has none", sanitized, async () => {
  await using t = await setup();
  assert.deepEqual(await t.provider.send(target(t.sub), message({ n: 1 })), { status: "sent" });
  const push = await t.service.waitForPush(1);
  assert.equal(push.topic, null);
  assert.equal(push.urgency, "normal");
  assert.deepEqual(t.service.rejections, []);
});

Deno.test(
  "webpush: the VAPID token is reused for the same origin until less than an hour remains",
  sanitized,
  async () => {
    const start = Date.now();
    let now = start;
    await using t = await setup({ now: () => now });
    const other = await newSubscription(t.service, "bob");
    await t.provider.send(target(t.sub), message({ n: 1 }));
    await t.provider.send(target(other), message({ n: 2 }));
    now = start + 10 * 3600 * 1000; // two hours of validity left
    await t.provider.send(target(t.sub), message({ n: 3 }));
    now = start + 11.5 * 3600 * 1000; // half an hour left: signed again
    await t.provider.send(target(t.sub), message({ n: 4 }));

    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map((n) => t.service.waitForPush(n)));
    assert.equal(b.jwt, a.jwt);
    assert.equal(c.jwt, a.jwt);
    assert.notEqual(d.jwt, a.jwt);
    assert.equal(d.claims.exp, Math.floor(now / 1000) + 12 * 3600);
    assert.deepEqual(t.service.rejections, []);
  },
);

Deno.test("webpush: 410 Gone and 404 mean the subscription is gone", sanitized, async () => {
  await using t = await setup();
  t.service.respond(t.sub.id, [410, { status: 404, body: "no such subscription" }]);
  const gone = await t.provider.send(target(t.sub), message({ n: 1 }));
  assert.equal(gone.status, "gone");
  const missing = await t.provider.send(target(t.sub), message({ n: 2 }));
  assert.equal(missing.status, "gone");
  assert.match((missing as { detail: string }).detail, /404: no such subscription/);
  assert.equal(t.service.pushes.length, 0);
  assert.deepEqual(t.service.rejections, []);
});

Deno.test("webpush: a 500 is retried, and the retry is sent", sanitized, async () => {
  await using t = await setup();
  t.service.respond(t.sub.id, [500, 201]);
  const first = await t.provider.send(target(t.sub), message({ n: 1 }));
  assert.equal(first.status, "retry");
  assert.equal((first as { retryAfterMs?: number }).retryAfterMs, undefined);
  assert.deepEqual(await t.provider.send(target(t.sub), message({ n: 1 })), { status: "sent" });
  assert.deepEqual(JSON.parse((await t.service.waitForPush(1)).payload), { n: 1 });
  assert.deepEqual(t.service.requests.map((r) => r.status), [500, 201]);
  assert.deepEqual(t.service.rejections, []);
});

Deno.test(
  "webpush: 429 with Retry-After is retried after the time the service asked for",
  sanitized,
  async () => {
    await using t = await setup();
    t.service.respond(t.sub.id, [{ status: 429, headers: { "Retry-After": "1" } }]);
    const outcome = await t.provider.send(target(t.sub), message({ n: 1 }));
    assert.equal(outcome.status, "retry");
    assert.equal((outcome as { retryAfterMs?: number }).retryAfterMs, 1000);
    assert.deepEqual(t.service.rejections, []);
  },
);

Deno.test(
  "webpush: another 4xx is rejected with its status and an excerpt of the body",
  sanitized,
  async () => {
    await using t = await setup();
    t.service.respond(t.sub.id, [{ status: 400, body: "InvalidTopic\n  topic too long" }]);
    const outcome = await t.provider.send(target(t.sub), message({ n: 1 }));
    assert.equal(outcome.status, "rejected");
    assert.match((outcome as { detail: string }).detail, /^HTTP 400: InvalidTopic topic too long$/);
  },
);

Deno.test(
  "webpush: a payload over one record is rejected without a request; one that fills it is sent",
  sanitized,
  async () => {
    await using t = await setup();
    const fits = { t: "x".repeat(MAX_PAYLOAD_BYTES - 8) }; // `{"t":""}` is 8 bytes
    assert.equal(JSON.stringify(fits).length, 3993);
    assert.deepEqual(await t.provider.send(target(t.sub), message(fits)), { status: "sent" });
    assert.deepEqual(JSON.parse((await t.service.waitForPush(1)).payload), fits);

    const over = { t: "x".repeat(MAX_PAYLOAD_BYTES - 7) };
    const outcome = await t.provider.send(target(t.sub), message(over));
    assert.equal(outcome.status, "rejected");
    assert.match((outcome as { detail: string }).detail, /3994 bytes/);
    // Multi-byte characters count as bytes, not as UTF-16 units.
    const wide = { t: "é".repeat(2000) };
    assert.equal((await t.provider.send(target(t.sub), message(wide))).status, "rejected");
    assert.equal(t.service.requests.length, 1);
    assert.deepEqual(t.service.rejections, []);
  },
);

Deno.test(
  "webpush: a target the outbound guard refuses is rejected and never reached",
  sanitized,
  async () => {
    await using t = await setup({ allowPrivate: false });
    const outcome = await t.provider.send(target(t.sub), message({ n: 1 }));
    assert.equal(outcome.status, "rejected");
    assert.match((outcome as { detail: string }).detail, /private_address/);
    assert.equal(t.service.requests.length, 0);
  },
);

Deno.test("webpush: a network failure is retried", sanitized, async () => {
  await using t = await setup();
  // A port that was just free: nothing listens there.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const dead = { ...target(t.sub), endpoint: `http://127.0.0.1:${port}/push/x` };
  const outcome = await t.provider.send(dead, message({ n: 1 }));
  assert.equal(outcome.status, "retry");
  const { detail } = outcome as { detail: string };
  assert.match(detail, /^network error/);
  assert.ok(!detail.includes("/push/x"), `the endpoint's secret path leaks: ${detail}`);
});

Deno.test(
  "webpush: malformed subscription keys and topics are rejected without a request",
  sanitized,
  async () => {
    await using t = await setup();
    const badKey = { ...target(t.sub), keys: { p256dh: "AAAA", auth: t.sub.keys.auth } };
    assert.equal((await t.provider.send(badKey, message({ n: 1 }))).status, "rejected");
    const badAuth = { ...target(t.sub), keys: { p256dh: t.sub.keys.p256dh, auth: "AAAA" } };
    assert.equal((await t.provider.send(badAuth, message({ n: 1 }))).status, "rejected");
    const badTopic = message({ n: 1 }, { topic: "has spaces and is far too long for a topic" });
    assert.equal((await t.provider.send(target(t.sub), badTopic)).status, "rejected");
    const notUrl = { ...target(t.sub), endpoint: "not a url" };
    assert.equal((await t.provider.send(notUrl, message({ n: 1 }))).status, "rejected");
    assert.equal(t.service.requests.length, 0);
  },
);

Deno.test(
  "webpush: the push service refuses a token signed by another key than the one it expects",
  sanitized,
  async () => {
    await using t = await setup();
    const intruder = new WebPushProvider({
      vapid: { ...(await generateVapidKeys()), subject: "https://intruder.example" },
      outbound: outbound(),
    });
    const outcome = await intruder.send(target(t.sub), message({ n: 1 }));
    assert.equal(outcome.status, "rejected");
    assert.match((outcome as { detail: string }).detail, /^HTTP 403/);
    assert.equal(t.service.rejections.length, 1);
    assert.equal(t.service.pushes.length, 0);
  },
);

Deno.test("WebPushProvider refuses malformed VAPID configuration at construction", async () => {
  const keys = await generateVapidKeys();
  const make = (vapid: Partial<VapidKeyPair & { subject: string }>) =>
    new WebPushProvider({
      vapid: { ...keys, subject: "mailto:ops@parley.example", ...vapid },
      outbound: outbound(),
    });
  assert.throws(() => make({ publicKey: keys.privateKey }), /65 bytes/);
  assert.throws(() => make({ privateKey: keys.publicKey }), /32 bytes/);
  assert.throws(() => make({ subject: "ops@parley.example" }), /mailto: or https:/);
  // A private key that is not the public key's: every send says so instead of sending.
  await using service = await PushService.start();
  const sub = await newSubscription(service);
  const mismatched = make({ privateKey: (await generateVapidKeys()).privateKey });
  const outcome = await mismatched.send(target(sub), message({ n: 1 }));
  assert.equal(outcome.status, "rejected");
  assert.match((outcome as { detail: string }).detail, /does not match/);
  assert.equal(service.requests.length, 0);
});

/** The headers and body a provider would send to `endpoint`, captured instead of sent. */
async function captured(
  keys: VapidKeyPair,
  sub: TestSubscription,
  endpoint: string,
  now?: () => number,
): Promise<{ headers: Record<string, string>; body: Uint8Array<ArrayBuffer> }> {
  let request: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> } | undefined;
  const capture: typeof fetch = (_input, init) => {
    request = {
      headers: init!.headers as Record<string, string>,
      body: init!.body as Uint8Array<ArrayBuffer>,
    };
    return Promise.resolve(new Response(null, { status: 201 }));
  };
  const provider = new WebPushProvider({
    vapid: { ...keys, subject: "mailto:ops@parley.example" },
    outbound: new OutboundClient({
      allowPrivate: true,
      httpsOnly: false,
      logger: quiet,
      fetch: capture,
    }),
    now,
  });
  const outcome = await provider.send({ ...target(sub), endpoint }, message({ n: 1 }));
  assert.deepEqual(outcome, { status: "sent" });
  return request!;
}

Deno.test(
  "push service: a faithful request is accepted and every kind of tampering is refused",
  sanitized,
  async () => {
    await using t = await setup();
    const good = await captured(t.keys, t.sub, t.sub.endpoint);
    async function post(headers: Record<string, string>, body = good.body): Promise<number> {
      const res = await fetch(t.sub.endpoint, { method: "POST", headers, body });
      await res.body?.cancel();
      return res.status;
    }
    const without = (name: string) =>
      Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== name));

    assert.equal(await post(good.headers), 201);
    assert.deepEqual(t.service.rejections, []);

    const [, token, key] = /^vapid t=(\S+), k=(\S+)$/.exec(good.headers.Authorization)!;
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    const stranger = (await generateVapidKeys()).publicKey;
    const elsewhere = await captured(t.keys, t.sub, "https://elsewhere.example/push/x");
    const hour = 3600 * 1000;
    const expired = await captured(t.keys, t.sub, t.sub.endpoint, () => Date.now() - 13 * hour);
    const tooLong = await captured(t.keys, t.sub, t.sub.endpoint, () => Date.now() + 13 * hour);
    const corrupt = new Uint8Array(good.body);
    corrupt[corrupt.length - 1] ^= 1;

    const cases: [string, number, number][] = [
      ["no Authorization", await post(without("Authorization")), 401],
      [
        "bad signature",
        await post({ ...good.headers, Authorization: `vapid t=${flipped}, k=${key}` }),
        401,
      ],
      [
        "another key",
        await post({ ...good.headers, Authorization: `vapid t=${token}, k=${stranger}` }),
        403,
      ],
      [
        "another audience",
        await post({ ...good.headers, Authorization: elsewhere.headers.Authorization }),
        401,
      ],
      [
        "expired",
        await post({ ...good.headers, Authorization: expired.headers.Authorization }),
        401,
      ],
      [
        "exp > 24 h",
        await post({ ...good.headers, Authorization: tooLong.headers.Authorization }),
        401,
      ],
      ["aesgcm", await post({ ...good.headers, "Content-Encoding": "aesgcm" }), 400],
      ["no TTL", await post(without("TTL")), 400],
      ["bad Urgency", await post({ ...good.headers, Urgency: "urgent" }), 400],
      ["bad Topic", await post({ ...good.headers, Topic: "a topic" }), 400],
      ["corrupt body", await post(good.headers, corrupt), 400],
    ];
    for (const [what, got, want] of cases) assert.equal(got, want, what);
    assert.equal(t.service.rejections.length, cases.length);
    assert.equal(t.service.pushes.length, 1);
  },
);

Deno.test("webpush: a redirect from the push service is not followed", sanitized, async () => {
  await using t = await setup();
  const elsewhere = await newSubscription(t.service, "elsewhere");
  t.service.respond(t.sub.id, [{ status: 307, headers: { Location: elsewhere.endpoint } }]);
  const outcome = await t.provider.send(target(t.sub), message({ n: 1 }));
  assert.equal(outcome.status, "rejected");
  assert.match((outcome as { detail: string }).detail, /^HTTP 307/);
  assert.equal(t.service.requests.length, 1);
});
