import * as Sentry from "@sentry/deno";
import type { Config } from "../config.ts";
import type { Logger } from "./logger.ts";

/** Where unexpected errors are reported, with the request they happened in. */
export interface ErrorReporter {
  capture(err: unknown, context: { requestId?: string; userId?: string; route?: string }): void;
  flush(timeoutMs: number): Promise<void>;
}

// Only integrations that observe errors: no request instrumentation (Parley logs and measures its own
// requests) and nothing that patches Deno.serve or WebSockets.
const KEEP = new Set([
  "InboundFilters",
  "EventFilters",
  "FunctionToString",
  "LinkedErrors",
  "Dedupe",
  "DenoContext",
  "ContextLines",
  "GlobalHandlers",
]);

/**
 * Initialises @sentry/deno when `SENTRY_DSN` is set. Without a DSN, errors are only logged (the
 * request log line and an error line with the stack), which is the development behaviour.
 */
export function createErrorReporter(config: Config, logger: Logger): ErrorReporter {
  if (!config.sentry) {
    return { capture() {}, flush: () => Promise.resolve() };
  }
  Sentry.init({
    dsn: config.sentry.dsn,
    environment: config.env,
    release: `parley@${Deno.env.get("PARLEY_VERSION") ?? "dev"}`,
    serverName: config.instanceId,
    tracesSampleRate: config.sentry.tracesSampleRate,
    sendDefaultPii: false,
    skipOpenTelemetrySetup: true,
    defaultIntegrations: Sentry.getDefaultIntegrations({}).filter((i) => KEEP.has(i.name)),
    initialScope: { tags: { region: config.region, instance: config.instanceId } },
  });
  logger.info("error tracking enabled", { "service.target.name": "sentry" });
  return {
    capture(err, context) {
      Sentry.withScope((scope) => {
        if (context.requestId) scope.setTag("request_id", context.requestId);
        if (context.route) scope.setTag("route", context.route);
        if (context.userId) scope.setUser({ id: context.userId });
        Sentry.captureException(err);
      });
    },
    async flush(timeoutMs) {
      await Sentry.flush(timeoutMs);
    },
  };
}
