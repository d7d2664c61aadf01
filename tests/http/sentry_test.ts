import assert from "node:assert/strict";
import * as Sentry from "@sentry/deno";
import { registerUser, startServer } from "../support/server.ts";

Deno.test({
  name: "with SENTRY_DSN, an unexpected error is reported to Sentry with the request id",
  // The Sentry SDK leaves its transport's response bodies unread and at times a timer running.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const envelopes: string[] = [];
    const got = Promise.withResolvers<void>();
    const ingest = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = new TextDecoder().decode(new Uint8Array(await req.arrayBuffer()));
      envelopes.push(body);
      if (body.includes("req-for-sentry")) got.resolve();
      return new Response("{}", { status: 200 });
    });
    const dsn = `http://publickey@127.0.0.1:${ingest.addr.port}/42`;
    const s = await startServer({ SENTRY_DSN: dsn });
    try {
      const u = await registerUser(s.url);
      await s.parley.store.close();
      const res = await u.client.get("/v1/users/me", { "x-request-id": "req-for-sentry" });
      assert.equal(res.status, 500);
      await s.parley.reporter.flush(5000);
      await got.promise;
      const event = envelopes.find((e) => e.includes("req-for-sentry"))!;
      assert.match(event, /"request_id":"req-for-sentry"/);
      assert.match(event, /"route":"\/v1\/users\/me"/);
      assert.ok(!event.includes(u.accessToken), "no credentials are reported");
    } finally {
      await s.close().catch(() => {});
      await Sentry.close(1000);
      await ingest.shutdown();
    }
  },
});
