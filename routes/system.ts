import { swaggerUI } from "@hono/swagger-ui";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../src/config.ts";
import { unauthorized } from "../src/domain/errors.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { AppEnv } from "./_env.ts";
import { PROBLEM_CODES } from "./_problem.ts";

/** What `/readyz` checks, with a name for each dependency. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

const DOCS_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; " +
  "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; " +
  "connect-src 'self'; frame-ancestors 'none'";

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
        "(application/problem+json) with a stable `code`; see /docs/problems. The WebSocket " +
        "protocol at /v1/ws is described in docs/PROTOCOL.md.",
    },
    servers: ctx.config.publicUrl ? [{ url: ctx.config.publicUrl }] : undefined,
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });

  app.get("/docs", async (c, next) => {
    await next();
    c.res.headers.set("content-security-policy", DOCS_CSP);
  }, swaggerUI({ url: "/openapi.json", title: "Parley API" }));

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
