import { socketOfConnection } from "../src/presence/presence.ts";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../routes/_env.ts";
import { sendProblem, toProblem } from "../routes/_problem.ts";
import type { Services } from "../src/services/mod.ts";
import type { Config } from "../src/config.ts";
import { AppError, forbidden, unavailable } from "../src/domain/errors.ts";
import type { Logger } from "../src/observability/logger.ts";
import type { MetricsRegistry } from "../src/observability/metrics.ts";
import type { ErrorReporter } from "../src/observability/sentry.ts";
import { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import { CloseCode } from "./protocol.ts";

/**
 * The WebSocket endpoint `GET /v1/ws` and the sockets of this instance: upgrades (checking `Origin`
 * against the allow-list), the hub that fans events out to them, and closing them all with 1012 on
 * shutdown. Deno sends protocol pings every `heartbeatMs` and closes sockets silent for two intervals.
 */
export class Gateway {
  readonly hub: Hub;
  /** Open sockets by connection id. */
  #connections = new Map<string, Connection>();
  #accepting = true;
  #timers: Array<ReturnType<typeof setInterval>> = [];

  readonly #frames;
  readonly #opened;
  readonly #closes;

  constructor(
    private readonly deps: {
      config: Config;
      services: Services;
      hub: Hub;
      logger: Logger;
      metrics: MetricsRegistry;
      reporter: ErrorReporter;
    },
  ) {
    this.hub = deps.hub;
    deps.metrics.gauge("parley_ws_connections", "Open WebSockets on this instance")
      .collect(() => [[{}, this.#connections.size]]);
    this.#frames = deps.metrics.counter(
      "parley_ws_frames_received_total",
      "Client frames handled, by type",
    );
    this.#closes = deps.metrics.counter(
      "parley_ws_server_closes_total",
      "WebSockets the server closed, by close code (4008: could not keep up)",
    );
    this.#opened = deps.metrics.counter(
      "parley_ws_connections_opened_total",
      "WebSockets accepted",
    );
  }

  /**
   * Starts the hub and, for shared presence, the heartbeat that keeps this instance's sockets alive
   * and the sweep that marks offline the users of instances that vanished.
   */
  start(): void {
    this.hub.start();
    const ttlMs = this.deps.config.ws.presenceTtlSeconds * 1000;
    const { presence } = this.deps.services;
    this.#timers.push(setInterval(() => {
      const entries = [...this.#connections.values()].filter((c) => c.userId).map((c) => ({
        userId: c.userId,
        connectionId: c.presenceId,
      }));
      presence.heartbeat(entries, (id) => this.#connections.has(socketOfConnection(id))).catch((
        err,
      ) => this.deps.logger.warn("presence heartbeat failed", { "error.message": String(err) }));
    }, Math.max(1000, ttlMs / 3)));
    this.#timers.push(setInterval(() => {
      presence.sweepExpired().catch((err) =>
        this.deps.logger.warn("presence sweep failed", { "error.message": String(err) })
      );
    }, Math.max(1000, ttlMs / 2)));
  }

  /** The `/v1/ws` route. */
  router(): OpenAPIHono<AppEnv> {
    const r = new OpenAPIHono<AppEnv>();
    r.get("/ws", (c) => this.#upgrade(c));
    return r;
  }

  #upgrade(c: Context<AppEnv>): Response {
    try {
      if (!this.#accepting) throw unavailable("This instance is shutting down");
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new AppError(
          426,
          "upgrade_required",
          "Upgrade required",
          "Connect with a WebSocket client",
        );
      }
      const origin = c.req.header("origin");
      const allowed = this.deps.config.corsOrigins;
      if (origin && allowed !== "*" && !allowed.includes(origin)) {
        throw forbidden("This origin may not open a socket");
      }
    } catch (err) {
      const { problem, retryAfter } = toProblem(err);
      return sendProblem(c, problem, retryAfter);
    }
    const idleTimeout = Math.max(1, Math.round((2 * this.deps.config.ws.heartbeatMs) / 1000));
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout });
    const conn = new Connection(socket, {
      config: this.deps.config,
      services: this.deps.services,
      hub: this.hub,
      logger: this.deps.logger,
      reporter: this.deps.reporter,
      onClosed: (closed) => this.#connections.delete(closed.id),
      onClosing: (code) => this.#closes.inc({ code: String(code) }),
      onFrame: (type) => this.#frames.inc({ type }),
    });
    this.#connections.set(conn.id, conn);
    this.#opened.inc();
    return response;
  }

  /** Stops accepting sockets and closes every open one with 1012 (clients reconnect and resume). */
  closeAll(): void {
    this.#accepting = false;
    for (const conn of this.#connections.values()) {
      conn.close(CloseCode.restarting, "server restarting");
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.closeAll();
    await this.hub.stop();
  }

  get size(): number {
    return this.#connections.size;
  }
}
