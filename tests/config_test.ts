import assert from "node:assert/strict";
import { loadVapidKeys } from "../src/push/vapid.ts";
import { generateVapidKeys } from "../src/push/webpush.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { generateKeyValues, loadKeys } from "../src/crypto/keys.ts";

Deno.test("loadConfig() needs nothing set and uses the embedded defaults", () => {
  const c = loadConfig({});
  assert.equal(c.env, "development");
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, "./data");
  assert.equal(c.mongo, undefined);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.corsOrigins, "*");
  assert.equal(c.ws.heartbeatMs, 30_000);
  assert.equal(c.limits.loginFailuresPerAccount, 10);
  assert.equal(c.limits.loginFailuresPerIp, 100);
  assert.equal(c.limits.registrationsPerIp, 100);
  assert.equal(c.ws.framesPerSecond, 60);
  assert.equal(c.ws.framesBurst, 120);
  assert.equal(c.media.maxBytes.image, 20 * 1024 * 1024);
});

Deno.test("loadConfig() rejects a bad value with one line naming the variable", () => {
  for (
    const [env, name] of [
      [{ PORT: "eighty" }, "PORT"],
      [{ PORT: "70000" }, "PORT"],
      [{ PARLEY_ENV: "staging" }, "PARLEY_ENV"],
      [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
      [{ REDIS_URL: "http://localhost" }, "REDIS_URL"],
      [{ MONGODB_URI: "postgres://x" }, "MONGODB_URI"],
      [{ CORS_ORIGINS: "not a url" }, "CORS_ORIGINS"],
      [{ WS_FRAMES_PER_SECOND: "100", WS_FRAMES_BURST: "10" }, "WS_FRAMES_BURST"],
    ] as const
  ) {
    assert.throws(
      () => loadConfig(env),
      (e: Error) =>
        e instanceof ConfigError && e.message.includes(name) && !e.message.includes("\n"),
      JSON.stringify(env),
    );
  }
});

Deno.test("loadConfig() reads region, CORS list and Redis/Mongo settings", () => {
  const c = loadConfig({
    FLY_REGION: "ams",
    CORS_ORIGINS: "https://app.example.com, http://localhost:3000",
    REDIS_URL: "redis://127.0.0.1:6379",
    MONGODB_URI: "mongodb://db:27017",
    PARLEY_ENV: "production",
  });
  assert.equal(c.region, "ams");
  assert.deepEqual(c.corsOrigins, ["https://app.example.com", "http://localhost:3000"]);
  assert.equal(c.redisUrl, "redis://127.0.0.1:6379");
  assert.equal(c.mongo?.uri, "mongodb://db:27017");
});

Deno.test("loadKeys() refuses production without keys, naming the variable", async () => {
  const config = loadConfig({ PARLEY_ENV: "production", DATA_DIR: "/nonexistent" });
  await assert.rejects(
    loadKeys(config),
    (e: Error) => e instanceof ConfigError && /JWT_KEYS/.test(e.message),
  );
});

Deno.test("loadKeys() refuses weak or malformed production keys", async () => {
  const good = await generateKeyValues();
  const base = { PARLEY_ENV: "production", ...good };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ENCRYPTION_KEYS: `k1:${btoa("a".repeat(32))}` }, /ENCRYPTION_KEYS.*weak/],
    [{ ENCRYPTION_KEYS: `k1:${btoa("short")}` }, /ENCRYPTION_KEYS.*short/],
    [{ URL_SIGNING_KEY: btoa("0123456789") }, /URL_SIGNING_KEY/],
    [{ JWT_KEYS: "not json" }, /JWT_KEYS/],
    [{ JWT_KEYS: JSON.stringify([{ kty: "RSA", kid: "x" }]) }, /JWT_KEYS\[0\]/],
    [{ ENCRYPTION_ACTIVE_KEY_ID: "nope" }, /ENCRYPTION_ACTIVE_KEY_ID/],
  ];
  for (const [override, pattern] of cases) {
    await assert.rejects(
      loadKeys(loadConfig({ ...base, ...override })),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      JSON.stringify(override),
    );
  }
  const keys = await loadKeys(loadConfig(base));
  assert.equal(keys.jwt.length, 1);
  assert.equal(keys.encryption.keys.size, 1);
});

Deno.test("development keys are generated once into DATA_DIR and reused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = loadConfig({ DATA_DIR: dir });
    const [first, second] = await Promise.all([loadKeys(config), loadKeys(config)]);
    const third = await loadKeys(config);
    assert.equal(first.jwt[0].kid, second.jwt[0].kid);
    assert.equal(first.jwt[0].kid, third.jwt[0].kid);
    assert.deepEqual(first.urlSigning, third.urlSigning);
    const mode = (await Deno.stat(`${dir}/keys.json`)).mode! & 0o777;
    assert.equal(mode, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() turns the read cache on by default and lets it be switched off", () => {
  assert.deepEqual(loadConfig({}).readCache, {
    enabled: true,
    ttlMs: 600_000,
    maxEntries: 10_000,
    timeoutMs: 500,
  });
  const off = loadConfig({ READ_CACHE: "false", READ_CACHE_TTL_SECONDS: "30" }).readCache;
  assert.equal(off.enabled, false);
  assert.equal(off.ttlMs, 30_000);
  assert.throws(() => loadConfig({ READ_CACHE_TIMEOUT_MS: "0" }), ConfigError);
});

Deno.test("VAPID keys: required in production, generated once into DATA_DIR in development", async () => {
  const prod = loadConfig({ PARLEY_ENV: "production", DATA_DIR: "/nonexistent" });
  await assert.rejects(
    loadVapidKeys(prod),
    (e: Error) => e instanceof ConfigError && /VAPID_PUBLIC_KEY/.test(e.message),
  );
  const pair = await generateVapidKeys();
  const keyed = loadConfig({
    PARLEY_ENV: "production",
    VAPID_PUBLIC_KEY: pair.publicKey,
    VAPID_PRIVATE_KEY: pair.privateKey,
  });
  await assert.rejects(loadVapidKeys(keyed), /VAPID_SUBJECT is required/);
  const full = loadConfig({
    PARLEY_ENV: "production",
    VAPID_PUBLIC_KEY: pair.publicKey,
    VAPID_PRIVATE_KEY: pair.privateKey,
    VAPID_SUBJECT: "mailto:ops@example.com",
  });
  assert.deepEqual(await loadVapidKeys(full), { ...pair, subject: "mailto:ops@example.com" });

  const dir = await Deno.makeTempDir();
  try {
    const dev = loadConfig({ DATA_DIR: dir });
    const first = await loadVapidKeys(dev);
    assert.match(first.publicKey, /^[A-Za-z0-9_-]{87}$/);
    assert.deepEqual(await loadVapidKeys(dev), first, "the same keys on every start");
    assert.equal((await Deno.stat(`${dir}/vapid.json`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("push providers: a half-configured FCM or APNs is refused, naming what is missing", () => {
  assert.throws(
    () => loadConfig({ FCM_PROJECT_ID: "p" }),
    (e: Error) => e instanceof ConfigError && /FCM_SERVICE_ACCOUNT/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ APNS_KEY_ID: "K", APNS_TEAM_ID: "T" }),
    (e: Error) => e instanceof ConfigError && /APNS_PRIVATE_KEY/.test(e.message),
  );
  assert.throws(() => loadConfig({ VAPID_PUBLIC_KEY: "short" }), ConfigError);
});
