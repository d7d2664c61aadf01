import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../src/config.ts";
import { unauthorized } from "../src/domain/errors.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { AppEnv } from "./_env.ts";
import { PROBLEM_CODES } from "./_problem.ts";
import { mountDocs, toPostmanCollection } from "./_docs.ts";
import { asyncApiDocument } from "../realtime/asyncapi.ts";

/** What `/readyz` checks, with a name for each dependency. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

/** The tags operations are grouped under, in the order the reference shows them. */
export const API_TAGS = [
  {
    name: "Accounts",
    description: "Registration, login, token refresh, logout, sessions and your password",
  },
  { name: "Users", description: "Profiles, search, privacy settings and blocks" },
  { name: "Conversations", description: "Direct conversations and groups, members, invitations" },
  {
    name: "Messages",
    description: "Sending, history, threads, reactions, receipts, pins, polls and events",
  },
  { name: "Media", description: "Uploads, processing and signed download links" },
  {
    name: "Push",
    description: "Push subscriptions per device (Web Push, FCM, APNs) and notification settings",
  },
  { name: "Moderation", description: "Reports, bans and group safety" },
  { name: "Privacy", description: "Your data export and account erasure" },
  { name: "Admin", description: "Site administration (administrators only)" },
];

/**
 * Operational routes: liveness, readiness, Prometheus metrics, the OpenAPI document, Swagger UI,
 * the problem-code reference and the JWKS of the access-token keys.
 */
export function mountSystemRoutes(
  app: OpenAPIHono<AppEnv>,
  ctx: {
    config: Config;
    metrics: MetricsRegistry;
    readiness: ReadinessCheck[];
    isShuttingDown: () => boolean;
    jwks: () => unknown;
  },
): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
    if (ctx.isShuttingDown()) return c.json({ status: "shutting_down" }, 503);
    const results = await Promise.all(ctx.readiness.map(async ({ name, check }) => {
      try {
        await withTimeout(check(), 2000);
        return [name, "ok"] as const;
      } catch {
        return [name, "unavailable"] as const;
      }
    }));
    const checks = Object.fromEntries(results);
    const ok = results.every(([, s]) => s === "ok");
    return c.json({ status: ok ? "ok" : "unavailable", checks }, ok ? 200 : 503);
  });

  app.get("/metrics", (c) => {
    if (ctx.config.metricsToken) {
      const given = c.req.header("authorization");
      if (given !== `Bearer ${ctx.config.metricsToken}`) {
        throw unauthorized("Metrics token required");
      }
    }
    return c.body(ctx.metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  app.get("/.well-known/jwks.json", (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(ctx.jwks());
  });

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Parley API",
      version: "1.0.0",
      description: "REST interface of Parley. Errors are RFC 9457 problem details " +
        "(application/problem+json) with a stable `code`; see /docs/problems. JSON routes take " +
        "only `application/json` bodies (415 otherwise). The WebSocket protocol at /v1/ws is " +
        "described by the AsyncAPI document at /asyncapi.json and in docs/PROTOCOL.md.",
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
      contact: { name: "Parley maintainers" },
    },
    servers: [{
      url: ctx.config.publicUrl ?? "/",
      description: ctx.config.publicUrl ? "This deployment" : "The server this document came from",
    }],
    tags: API_TAGS,
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });

  mountDocs(app);

  app.get("/asyncapi.json", (c) => {
    const url = new URL(ctx.config.publicUrl ?? c.req.url);
    return c.json(asyncApiDocument({ host: url.host, secure: url.protocol === "https:" }));
  });

  let postman: Promise<unknown> | undefined;
  app.get("/docs/postman.json", async (c) => {
    // Converted once per instance, on first request, from this instance's own document.
    postman ??= fetch(new URL("/openapi.json", c.req.url)).then((r) => r.text()).then(
      toPostmanCollection,
    );
    postman.catch(() => postman = undefined);
    c.header("content-disposition", 'attachment; filename="parley.postman_collection.json"');
    return c.json(await postman);
  });

  app.get("/docs/problems", (c) => {
    const rows = Object.entries(PROBLEM_CODES).map(([code, text]) =>
      `<tr id="${code}"><td><code>${code}</code></td><td>${
        text.replace(/`([^`]+)`/g, "<code>$1</code>")
      }</td></tr>`
    ).join("");
    return c.html(
      `<!doctype html><html><head><meta charset="utf-8"><title>Parley problem codes</title></head>` +
        `<body><h1>Problem codes</h1><p>Every error is an RFC 9457 problem with one of these codes.</p>` +
        `<table><tr><th>code</th><th>meaning</th></tr>${rows}</table></body></html>`,
    );
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
