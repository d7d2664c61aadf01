import assert from "node:assert/strict";
import { assertProblem, Client, registerUser, serverTest, startServer } from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

serverTest(
  "healthz, readyz, openapi.json, docs and jwks are served on the embedded defaults",
  async (s) => {
    const c = new Client(s.url);
    assert.deepEqual((await c.get("/healthz")).body, { status: "ok" });
    const ready = await c.get("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { store: "ok", broker: "ok" });
    const doc = await c.get("/openapi.json");
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, "3.1.0");
    for (const path of ["/v1/auth/register", "/v1/auth/login", "/v1/users/me", "/v1/sessions"]) {
      assert.ok(doc.body.paths[path], `openapi documents ${path}`);
    }
    assert.ok(doc.body.components.schemas.Problem);
    const docs = await fetch(`${s.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    const problems = await fetch(`${s.url}/docs/problems`);
    assert.match(await problems.text(), /validation_failed/);
    const jwks = await c.get("/.well-known/jwks.json");
    assert.equal(jwks.body.keys[0].kty, "OKP");
    assert.equal(jwks.body.keys[0].d, undefined, "never the private part");
  },
);

serverTest(
  "every error is problem+json: unknown route, malformed JSON, bad fields, wrong type",
  async (s) => {
    const c = new Client(s.url);
    assertProblem(await c.get("/nope"), 404, "not_found");
    assertProblem(await c.get("/v1/conversations/unknown/nothing"), 404, "not_found");
    const bad = await c.post("/v1/auth/register", "{not json");
    assertProblem(bad, 400, "validation_failed");
    assert.equal(bad.body.detail, "Request body is not valid JSON");
    const fields = await c.post("/v1/auth/register", { username: 5, password: [] });
    assertProblem(fields, 400, "validation_failed");
    assert.deepEqual([...new Set(fields.body.errors.map((e: { path: string }) => e.path))].sort(), [
      "password",
      "username",
    ]);
    assertProblem(
      await c.post("/v1/auth/register", "<x/>", { "content-type": "application/xml" }),
      415,
      "unsupported_media_type",
    );
    // A string body from fetch() goes as text/plain: not JSON, so refused (no CORS-less requests).
    const plain = await fetch(`${s.url}/v1/auth/register`, {
      method: "POST",
      body: JSON.stringify({ username: "plainbody", password: "long enough password" }),
    });
    assert.equal(plain.status, 415);
    await plain.body?.cancel();
  },
);

Deno.test({
  name: "an unexpected failure is a 500 problem without internals, logged with the request id",
  ...sanitized,
  fn: async () => {
    const s = await startServer();
    try {
      const u = await registerUser(s.url);
      await s.parley.store.close(); // the database goes away under the app
      const res = await u.client.get("/v1/users/me", { "x-request-id": "req-500-test" });
      assertProblem(res, 500, "internal_error");
      assert.equal(res.body.requestId, "req-500-test");
      assert.doesNotMatch(JSON.stringify(res.body), /sqlite|database|stack|at \w+ \(/i);
      const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.message === "unhandled error");
      assert.equal(line["http.request.id"], "req-500-test");
      assert.ok(line["error.stack_trace"], "the stack goes to the log, not the client");
    } finally {
      await s.close().catch(() => {});
    }
  },
});

serverTest("request ids are honoured from the edge or generated, and echoed", async (s) => {
  const c = new Client(s.url);
  const given = await c.get("/healthz", { "x-request-id": "edge-abc-123" });
  assert.equal(given.headers.get("x-request-id"), "edge-abc-123");
  const made = await c.get("/healthz");
  assert.match(made.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  const hostile = await c.get("/healthz", { "x-request-id": "bad id <script>" });
  assert.match(hostile.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
});

serverTest(
  "one ECS log line per request, with route, status, duration and user, and no secrets",
  async (s) => {
    const u = await registerUser(s.url, { password: "a-very-secret-password" });
    const login = await new Client(s.url).post("/v1/auth/login", {
      username: u.username,
      password: u.password,
    });
    const refreshed = await new Client(s.url).post("/v1/auth/refresh", {
      refreshToken: login.body.refreshToken,
    });
    await u.client.get("/v1/users/me", { "x-request-id": "me-request" });
    const all = s.logs.join("\n");
    for (
      const secret of [
        u.password,
        u.accessToken,
        u.refreshToken,
        login.body.accessToken,
        login.body.refreshToken,
        refreshed.body.refreshToken,
      ]
    ) {
      assert.ok(!all.includes(secret), "no password or token in the logs");
    }
    const line = s.logs.map((l) => JSON.parse(l)).find((l) =>
      l["http.request.id"] === "me-request"
    );
    assert.equal(line["http.request.method"], "GET");
    assert.equal(line["http.route"], "/v1/users/me");
    assert.equal(line["http.response.status_code"], 200);
    assert.equal(line["user.id"], u.id);
    assert.equal(typeof line["event.duration"], "number");
    assert.equal(line["ecs.version"], "8.11.0");
    assert.ok(line["@timestamp"]);
  },
);

serverTest("metrics expose request counts, latency histograms and published events", async (s) => {
  const c = new Client(s.url);
  await c.get("/healthz");
  await c.get("/nope");
  const text = (await c.get("/metrics")).body as string;
  assert.match(text, /http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
  assert.match(text, /http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  assert.match(
    text,
    /http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="0.005"\}/,
  );
  assert.match(text, /# TYPE parley_events_published_total counter/);
});

serverTest("secure headers, CORS allow-list and the JSON body limit", {
  env: { CORS_ORIGINS: "https://app.example.com", MAX_JSON_BODY_BYTES: "2048" },
}, async (s) => {
  const c = new Client(s.url);
  const res = await c.get("/healthz", { origin: "https://app.example.com" });
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
  const other = await c.get("/healthz", { origin: "https://evil.example" });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const big = await c.post("/v1/auth/register", { username: "x".repeat(4096), password: "y" });
  assertProblem(big, 413, "payload_too_large");
});
