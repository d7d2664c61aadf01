import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Config } from "../src/config.ts";
import { unauthorized } from "../src/domain/errors.ts";
import { errorFields, type Logger } from "../src/observability/logger.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { ErrorReporter } from "../src/observability/sentry.ts";
import type { RequestMeta } from "../src/domain/actor.ts";
import type { AuthService } from "../src/services/auth.ts";
import type { AdminService } from "../src/services/admin.ts";
import type { AppEnv } from "./_env.ts";
import { sendProblem, toProblem } from "./_problem.ts";

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The route pattern a request matched, for logs and metric labels (bounded cardinality). */
function routeOf(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  try {
    const path = routePath(c);
    return path === "/*" || path === "*" ? "unmatched" : path;
  } catch {
    return "unmatched";
  }
}

/** Counts requests being served, so shutdown can wait for them. */
export class InFlight {
  count = 0;
  #idle: Array<() => void> = [];

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
  }

  /** Resolves when no request is in flight. */
  drained(): Promise<void> {
    return this.count === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idle.push(resolve));
  }
}

/**
 * Gives each request an id (honouring `x-request-id` or Fly's `fly-request-id` from the edge), works
 * out the client address, and after the response writes one ECS log line (method, route, status,
 * duration, request id, user id; never bodies or credentials) and the HTTP metrics.
 */
export function requestContext(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  inFlight: InFlight,
): MiddlewareHandler<AppEnv> {
  const requests = metrics.counter(
    "http_requests_total",
    "HTTP requests by method, route and status",
  );
  const latency = metrics.histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method and route",
  );
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id") ?? c.req.header("fly-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("clientIp", clientIp(c, config.trustProxy));
    inFlight.enter();
    try {
      await next();
    } finally {
      inFlight.leave();
    }
    c.res.headers.set("x-request-id", requestId);
    const route = routeOf(c);
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    requests.inc({ method: c.req.method, route, status: String(status) });
    latency.observe(seconds, { method: c.req.method, route });
    if (route === "/healthz" || route === "/metrics") return;
    const fields = {
      "http.request.method": c.req.method,
      "url.path": c.req.path,
      "http.route": route,
      "http.response.status_code": status,
      "event.duration": Math.round(seconds * 1e9),
      "http.request.id": requestId,
      "user.id": c.get("userId"),
      "client.ip": c.get("clientIp"),
    };
    if (status >= 500) logger.error("request failed", fields);
    else logger.info("request", fields);
  };
}

function clientIp(c: Parameters<MiddlewareHandler<AppEnv>>[0], trustProxy: boolean): string {
  if (trustProxy) {
    const edge = c.req.header("fly-client-ip") ??
      c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (edge) return edge;
  }
  const addr = c.env?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "unknown";
}

/** The app-wide error handler: problem+json for everything, and a report for the unexpected. */
export function errorHandler(logger: Logger, reporter: ErrorReporter) {
  return (err: Error, c: Parameters<MiddlewareHandler<AppEnv>>[0]): Response => {
    const { problem, internal, retryAfter } = toProblem(err);
    if (internal) {
      const requestId = c.get("requestId");
      logger.error("unhandled error", {
        ...errorFields(err),
        "http.request.id": requestId,
        "url.path": c.req.path,
        "user.id": c.get("userId"),
      });
      reporter.capture(err, { requestId, userId: c.get("userId"), route: routeOf(c) });
    }
    const res = sendProblem(c, problem, retryAfter);
    if (problem.status === 401) res.headers.set("www-authenticate", 'Bearer realm="parley"');
    return res;
  };
}

/** Requires a valid access token whose session is live; sets `actor`. */
export function requireAuth(auth: AuthService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!m) throw unauthorized("Missing bearer token");
    const actor = await auth.authenticate(m[1]);
    c.set("actor", actor);
    c.set("userId", actor.userId);
    await next();
  };
}

/**
 * Requires the global `admin` role (after {@link requireAuth}). The role is read from the store, not
 * the token, so a demotion takes effect at once.
 */
export function requireAdmin(admin: AdminService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await admin.requireAdmin(c.get("actor"));
    await next();
  };
}

/** Where a request came from, for the audit log and rate limits. */
export function requestMeta(c: Parameters<MiddlewareHandler<AppEnv>>[0]): RequestMeta {
  return { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") };
}
