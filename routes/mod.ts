import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { Services } from "../src/services/mod.ts";
import type { Config } from "../src/config.ts";
import {
  notFound,
  payloadTooLarge,
  unavailable,
  unsupportedMediaType,
} from "../src/domain/errors.ts";
import type { Logger } from "../src/observability/logger.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { ErrorReporter } from "../src/observability/sentry.ts";
import type { AppEnv } from "./_env.ts";
import { errorHandler, type InFlight, requestContext } from "./_middleware.ts";
import { sendProblem, toProblem } from "./_problem.ts";
import { accountRoutes } from "./account.ts";
import { adminRoutes } from "./admin.ts";
import { authRoutes } from "./auth.ts";
import { conversationRoutes } from "./conversations.ts";
import { exportRoutes } from "./exports.ts";
import { archiveRoutes } from "./archive.ts";
import { messageRoutes } from "./messages.ts";
import { scheduledRoutes } from "./scheduled.ts";
import { pinRoutes } from "./pins.ts";
import { draftRoutes } from "./drafts.ts";
import { pushRoutes } from "./push.ts";
import { searchRoutes } from "./search.ts";
import { mentionRoutes } from "./mentions.ts";
import { threadRoutes } from "./threads.ts";
import { safetyRoutes } from "./safety.ts";
import { groupAccessRoutes } from "./group_access.ts";
import { pollRoutes } from "./polls.ts";
import { sessionRoutes } from "./sessions.ts";
import { mountSystemRoutes, type ReadinessCheck } from "./system.ts";
import { userRoutes } from "./users.ts";

/**
 * JSON routes take only JSON: a body of any other type (`text/plain`, a form, none named) is 415
 * before anything reads it. So a cross-origin "simple request" (which may carry `text/plain` without
 * a CORS preflight) never reaches a route, whatever `CORS_ORIGINS` allows.
 */
function requireJsonBody(req: Request): void {
  // A request without a body (the server may still give it an empty stream) needs no type.
  const length = req.headers.get("content-length");
  if (req.body === null || (!req.headers.has("transfer-encoding") && !Number(length))) return;
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw unsupportedMediaType("Send the body as application/json");
  }
}

/** Everything the HTTP edge needs from the composition root. */
export interface HttpContext {
  config: Config;
  logger: Logger;
  metrics: MetricsRegistry;
  reporter: ErrorReporter;
  services: Services;
  readiness: ReadinessCheck[];
  isShuttingDown: () => boolean;
  inFlight: InFlight;
  /** Extra routers mounted under `/v1` (realtime, media ...), each with its own paths. */
  extraV1?: Array<OpenAPIHono<AppEnv>>;
  /** Paths whose bodies are not subject to the JSON body limit (streamed uploads). */
  unlimitedBodies?: (path: string, method: string) => boolean;
}

/**
 * The Hono application: request context and logging, secure headers, CORS allow-list, JSON body
 * limits, the `/v1` API, operational routes, and problem+json for every error including 404.
 */
export function createHttpApp(ctx: HttpContext): OpenAPIHono<AppEnv> {
  const { config } = ctx;
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestContext(config, ctx.logger, ctx.metrics, ctx.inFlight));
  app.use("*", async (c, next) => {
    // Draining: what is in flight finishes; new work goes elsewhere (the edge retries on 503).
    if (ctx.isShuttingDown() && c.req.path !== "/healthz" && c.req.path !== "/readyz") {
      const res = sendProblem(c, toProblem(unavailable("This instance is shutting down")).problem);
      res.headers.set("connection", "close");
      return res;
    }
    await next();
  });
  app.use("*", async (c, next) => {
    // An upgraded WebSocket's 101 response must pass through untouched.
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return await next();
    return await secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: false,
      // A route that sets its own policy (media downloads, the docs page) keeps it.
      overwrite: false,
      strictTransportSecurity: config.env === "production"
        ? "max-age=31536000; includeSubDomains"
        : false,
    })(c, next);
  });
  app.use(
    "*",
    cors({
      origin: (origin) =>
        config.corsOrigins === "*"
          ? origin || "*"
          : config.corsOrigins.includes(origin)
          ? origin
          : null,
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "Range"],
      exposeHeaders: ["X-Request-Id", "Retry-After", "Content-Range", "Content-Disposition"],
      maxAge: 600,
    }),
  );
  const limit = bodyLimit({
    maxSize: config.limits.maxJsonBodyBytes,
    onError: () => {
      throw payloadTooLarge(`Request body is larger than ${config.limits.maxJsonBodyBytes} bytes`);
    },
  });
  app.use("/v1/*", async (c, next) => {
    if (ctx.unlimitedBodies?.(c.req.path, c.req.method)) return await next();
    requireJsonBody(c.req.raw);
    return await limit(c, next);
  });

  const s = ctx.services;
  const routers = [
    authRoutes(s),
    sessionRoutes(s),
    accountRoutes(s),
    exportRoutes(s),
    archiveRoutes(s),
    userRoutes(s),
    safetyRoutes(s),
    // Before the conversation routes: `/conversations/discover` is not a conversation id.
    groupAccessRoutes(s),
    conversationRoutes(s),
    messageRoutes(s),
    scheduledRoutes(s),
    pinRoutes(s),
    draftRoutes(s),
    pushRoutes(s),
    searchRoutes(s),
    mentionRoutes(s),
    threadRoutes(s),
    pollRoutes(s),
    adminRoutes(s),
    ...ctx.extraV1 ?? [],
  ];
  for (const r of routers) app.route("/v1", r);
  mountSystemRoutes(app, {
    config,
    metrics: ctx.metrics,
    readiness: ctx.readiness,
    isShuttingDown: ctx.isShuttingDown,
    jwks: () => s.auth.jwks(),
  });

  app.notFound((c) => sendProblem(c, toProblem(notFound("No such route")).problem));
  app.onError(errorHandler(ctx.logger, ctx.reporter));
  return app;
}
