import { presenceConnectionId } from "../src/presence/presence.ts";
import type { Services } from "../src/services/mod.ts";
import type { Config } from "../src/config.ts";
import { AppError, overloaded } from "../src/domain/errors.ts";
import { utf8Length } from "../src/domain/text.ts";
import { fieldProblems } from "../src/domain/validation.ts";
import type { Logger } from "../src/observability/logger.ts";
import type { ErrorReporter } from "../src/observability/sentry.ts";
import type { Actor } from "../src/domain/actor.ts";
import type { Hub, LocalConnection } from "./hub.ts";
import { dispatchFrame } from "./dispatch.ts";
import { AuthFrame, ClientFrame, CloseCode, FRAME_TYPES, frameId, recoverId } from "./protocol.ts";

/** The largest auth frame: a token and a resume map of 10,000 conversations (about 60 bytes each). */
const AUTH_FRAME_BYTES = 1024 * 1024;

/** What a connection needs from the gateway. */
export interface ConnectionDeps {
  config: Config;
  services: Services;
  hub: Hub;
  logger: Logger;
  reporter: ErrorReporter;
  onClosed: (conn: Connection) => void;
  /** The server decided to close this socket with `code`. */
  onClosing: (code: number) => void;
  onFrame: (type: string) => void;
}

type AckId = string | number | undefined;
type Buffered = [frame: string, conversationId: string | undefined, seq: number | undefined];

const WINDOW_MS = 10_000;
const MAX_GARBAGE = 20;
const MAX_REPLAY_BUFFER = 10_000;
const ABUSE_LINGER_MS = 200;
const PACED_TIMEOUT_MS = 30_000;

/**
 * One socket's lifecycle: first-frame auth within the timeout, then validated frames, each with an id
 * answered by exactly one ack. Frames of one socket are handled in order. While a resume replays missed
 * events from the store, live events wait in a buffer and are deduplicated at the seam by seq. A socket
 * that cannot keep up (send buffer over its limit) is closed with 4008 and can resume.
 */
export class Connection implements LocalConnection {
  userId = "";
  sessionId = "";
  readonly id = crypto.randomUUID();
  #state: "auth" | "replay" | "live" | "closed" = "auth";

  /** What presence knows this socket by (its device and itself), once authenticated. */
  get presenceId(): string {
    return presenceConnectionId(this.sessionId, this.id);
  }

  #actor?: Actor;
  #attached = false;
  #authTimer?: ReturnType<typeof setTimeout>;
  #queue: Promise<void> = Promise.resolve();
  #buffer: Buffered[] | null = null;
  #floors: Map<string, number> | null = null;
  #tokens: number;
  #tokensAt = Date.now();
  #rejected = 0;
  #garbage = 0;
  #windowStart = Date.now();

  constructor(readonly socket: WebSocket, private readonly deps: ConnectionDeps) {
    this.#tokens = deps.config.ws.framesBurst;
    socket.onopen = () => {
      this.#authTimer = setTimeout(
        () => this.close(CloseCode.unauthorized, "authentication timeout"),
        deps.config.ws.authTimeoutMs,
      );
    };
    socket.onmessage = (e) => this.#onMessage(e.data);
    socket.onclose = () => void this.#cleanup();
    socket.onerror = () => {};
  }

  /** Sends a frame now, into the replay buffer, or not at all (already seen at the resume seam). */
  deliver(frame: string, conversationId?: string, seq?: number): void {
    if (this.#state === "replay") {
      this.#buffer!.push([frame, conversationId, seq]);
      if (this.#buffer!.length > MAX_REPLAY_BUFFER) {
        this.close(CloseCode.slowConsumer, "too far behind");
      }
      return;
    }
    if (this.#state !== "live" || this.#belowFloor(conversationId, seq)) return;
    this.#send(frame);
  }

  /** Read through a method so type narrowing after an `await` does not hide a concurrent close. */
  #closed(): boolean {
    return this.#state === "closed";
  }

  /**
   * Closes with `code`. For abuse closes, frames stop being handled at once but the close frame goes
   * out after `lingerMs`: a client still flushing a burst would otherwise have its connection torn
   * down mid-write and never see the code.
   */
  close(code: number, reason: string, lingerMs = 0): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.deps.onClosing(code);
    const send = () => {
      try {
        this.socket.close(code, reason);
      } catch {
        // already closing
      }
    };
    if (lingerMs > 0) setTimeout(send, lingerMs);
    else send();
  }

  #send(frame: string): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (this.socket.bufferedAmount > this.deps.config.ws.sendBufferBytes) {
      this.close(CloseCode.slowConsumer, "send buffer full");
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  #json(value: unknown): void {
    this.#send(JSON.stringify(value));
  }

  /**
   * Sends at the pace the client reads: waits while the send buffer is over half its limit. Used where
   * the server controls the pace (replay, flushing the replay buffer); live fan-out never waits, it
   * closes the socket instead.
   */
  async #sendPaced(frame: string): Promise<boolean> {
    const limit = this.deps.config.ws.sendBufferBytes / 2;
    const deadline = Date.now() + PACED_TIMEOUT_MS;
    while (this.socket.readyState === WebSocket.OPEN && this.socket.bufferedAmount > limit) {
      if (Date.now() > deadline) {
        this.close(CloseCode.slowConsumer, "send buffer full");
        return false;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.#send(frame);
  }

  #ack(id: AckId, payload: Record<string, unknown>): void {
    if (id !== undefined) this.#json({ type: "ack", id, ok: true, ...payload });
  }

  #fail(
    id: AckId,
    error: { code: string; detail: string; errors?: unknown; retryAfterSeconds?: number },
  ): void {
    this.#json(id !== undefined ? { type: "ack", id, ok: false, error } : { type: "error", error });
  }

  #windowTick(now: number): void {
    if (now - this.#windowStart > WINDOW_MS) {
      this.#windowStart = now;
      this.#rejected = 0;
      this.#garbage = 0;
    }
  }

  /** A frame that arrives, or was admitted, after the socket began to close: answered, not acted on. */
  #refuseClosing(id: AckId): void {
    if (id === undefined || this.socket.readyState !== WebSocket.OPEN) return;
    this.#fail(id, {
      code: "unavailable",
      detail: "This socket is closing; send again on a new one",
    });
  }

  #onMessage(data: unknown): void {
    if (this.#state === "closed") {
      return this.#refuseClosing(typeof data === "string" ? frameId(data) : undefined);
    }
    const now = Date.now();
    this.#windowTick(now);
    const { ws } = this.deps.config;
    this.#tokens = Math.min(
      ws.framesBurst,
      this.#tokens + (now - this.#tokensAt) / 1000 * ws.framesPerSecond,
    );
    this.#tokensAt = now;
    if (typeof data !== "string") {
      if (this.#state === "auth") {
        return this.close(CloseCode.unauthorized, "first frame must be auth");
      }
      this.#fail(undefined, {
        code: "invalid_frame",
        detail: "Frames are JSON text; binary is not accepted",
      });
      return this.#garbageStrike();
    }
    // The auth frame may carry a resume map of up to 10,000 conversations: it gets more room.
    const limit = this.#state === "auth"
      ? Math.max(ws.maxFrameBytes, AUTH_FRAME_BYTES)
      : ws.maxFrameBytes;
    if (data.length * 3 > limit && utf8Length(data) > limit) {
      if (this.#state === "auth") {
        return this.close(CloseCode.unauthorized, "first frame must be auth");
      }
      this.#fail(frameId(data), {
        code: "payload_too_large",
        detail: `Frames are limited to ${ws.maxFrameBytes} bytes`,
      });
      return this.#rejectStrike();
    }
    if (this.#tokens < 1) {
      this.#fail(frameId(data), { code: "rate_limited", detail: "Too many frames; slow down" });
      return this.#rejectStrike();
    }
    this.#tokens -= 1;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      if (this.#state === "auth") {
        return this.close(CloseCode.unauthorized, "first frame must be auth");
      }
      this.#fail(undefined, { code: "invalid_frame", detail: "Frame is not valid JSON" });
      return this.#garbageStrike();
    }
    const queuedAt = performance.now();
    this.#queue = this.#queue.then(() => this.#handle(raw, queuedAt)).catch((err) =>
      this.#crashed(err)
    );
  }

  #rejectStrike(): void {
    if (++this.#rejected > this.deps.config.ws.framesBurst) {
      this.close(CloseCode.rateLimited, "rate limit exceeded", ABUSE_LINGER_MS);
    }
  }

  #garbageStrike(): void {
    if (++this.#garbage >= MAX_GARBAGE) {
      this.close(CloseCode.notJson, "too many invalid frames", ABUSE_LINGER_MS);
    }
  }

  async #handle(raw: unknown, queuedAt: number): Promise<void> {
    if (this.#state === "closed") return this.#refuseClosing(recoverId(raw));
    if (this.#state === "auth") return await this.#authenticate(raw);
    const parsed = ClientFrame.safeParse(raw);
    const id = recoverId(raw);
    if (!parsed.success) {
      const type = (raw as { type?: unknown })?.type;
      const unknownType = typeof type !== "string" || !FRAME_TYPES.has(type);
      this.#fail(id, {
        code: "validation_failed",
        detail: unknownType ? `Unknown frame type ${JSON.stringify(type)}` : "Invalid frame",
        errors: fieldProblems(parsed.error.issues),
      });
      return;
    }
    const frame = parsed.data;
    this.deps.onFrame(frame.type);
    this.deps.services.activity.seen(this.userId);
    // Admission control: a new message that already waited past the bound behind this socket's
    // earlier frames is refused at once (the client retries it with the same clientMsgId), so what
    // is accepted is never seconds old and a backlog drains fast.
    const admission = this.deps.config.sendAdmissionMs;
    if (
      frame.type === "message.send" && admission > 0 && performance.now() - queuedAt > admission
    ) {
      return this.#reportFailure(frame.id, overloaded(1));
    }
    try {
      this.#ack(frame.id, await dispatchFrame(this.deps.services, this.#actor!, frame));
    } catch (err) {
      this.#reportFailure(frame.id, err);
    }
  }

  #reportFailure(id: AckId, err: unknown): void {
    if (err instanceof AppError) {
      this.#fail(id, {
        code: err.code,
        detail: err.message,
        ...(err.extra.errors ? { errors: err.extra.errors } : {}),
        ...(err.extra.retryAfterSeconds ? { retryAfterSeconds: err.extra.retryAfterSeconds } : {}),
      });
      return;
    }
    this.deps.logger.error("socket frame failed", {
      "error.message": err instanceof Error ? err.message : String(err),
      "error.stack_trace": err instanceof Error ? err.stack : undefined,
      "user.id": this.userId,
    });
    this.deps.reporter.capture(err, { userId: this.userId, route: "/v1/ws" });
    this.#fail(id, { code: "internal_error", detail: "Something went wrong on our side" });
  }

  #crashed(err: unknown): void {
    this.deps.logger.error("socket handler crashed", {
      "error.message": String(err),
      "user.id": this.userId,
    });
    this.close(1011, "internal error");
  }

  async #authenticate(raw: unknown): Promise<void> {
    const parsed = AuthFrame.safeParse(raw);
    if (!parsed.success) return this.close(CloseCode.unauthorized, "first frame must be auth");
    let actor: Actor;
    try {
      actor = await this.deps.services.auth.authenticate(parsed.data.token);
    } catch {
      return this.close(CloseCode.unauthorized, "invalid token");
    }
    if (this.#state !== "auth") return;
    clearTimeout(this.#authTimer);
    this.#actor = actor;
    this.userId = actor.userId;
    this.sessionId = actor.sessionId;
    this.#state = "replay";
    this.#buffer = [];
    const heads = await this.deps.hub.attach(this);
    this.#attached = true;
    if (this.#closed()) return void this.#cleanup();
    void this.deps.services.presence.socketOpened(actor.userId, this.presenceId).catch((err) =>
      this.deps.logger.warn("presence update failed", { "error.message": String(err) })
    );
    this.#json({
      type: "ready",
      userId: actor.userId,
      sessionId: actor.sessionId,
      conversations: heads,
      heartbeatMs: this.deps.config.ws.heartbeatMs,
    });
    this.#ack(parsed.data.id, {});
    if (parsed.data.resume) {
      await this.#replay(parsed.data.resume, new Map(heads.map((h) => [h.id, h.lastSeq])));
    }
    // Flush what arrived live during the replay at the client's pace; new arrivals keep buffering
    // until the buffer is empty, and going live happens in the same tick as that check.
    while (this.#buffer && this.#buffer.length > 0) {
      const [frame, conversationId, seq] = this.#buffer.shift()!;
      if (this.#belowFloor(conversationId, seq)) continue;
      if (!(await this.#sendPaced(frame))) return;
    }
    this.#buffer = null;
    if (this.#closed()) return;
    this.#state = "live";
  }

  /** True when a live event was already sent by the replay (at or below its conversation's floor). */
  #belowFloor(conversationId: string | undefined, seq: number | undefined): boolean {
    if (!this.#floors || conversationId === undefined || seq === undefined) return false;
    const floor = this.#floors.get(conversationId);
    if (floor === undefined) return false;
    if (seq <= floor) return true;
    this.#floors.delete(conversationId);
    if (this.#floors.size === 0) this.#floors = null;
    return false;
  }

  /**
   * Sends, per resumed conversation, every durable event after the client's last seen seq (or a `gap`
   * notice when more than the limit are missing). Floors remember how far each replay went, so live
   * events already replayed are not sent twice.
   */
  async #replay(resume: Record<string, number>, heads: Map<string, number>): Promise<void> {
    const floors = new Map<string, number>();
    const maxGap = this.deps.config.ws.resumeMaxGap;
    for (const [conversationId, lastSeen] of Object.entries(resume)) {
      const head = heads.get(conversationId);
      if (head === undefined || lastSeen >= head) continue;
      if (head - lastSeen > maxGap) {
        this.#json({ type: "gap", conversationId, fromSeq: lastSeen + 1, toSeq: head });
        continue;
      }
      let after = lastSeen;
      for (;;) {
        const page = await this.deps.services.messages.events(
          this.#actor!,
          conversationId,
          after,
          200,
        )
          .catch(() => ({ events: [], hasMore: false, nextAfter: after }));
        for (const e of page.events) {
          if (this.#closed() || !(await this.#sendPaced(JSON.stringify({ type: "event", ...e })))) {
            return;
          }
        }
        after = page.nextAfter;
        if (!page.hasMore) break;
      }
      floors.set(conversationId, after);
    }
    if (floors.size > 0) this.#floors = floors;
  }

  async #cleanup(): Promise<void> {
    clearTimeout(this.#authTimer);
    const wasAttached = this.#attached;
    this.#attached = false;
    if (this.#state !== "closed") this.#state = "closed";
    this.#buffer = null;
    this.deps.onClosed(this);
    if (!wasAttached) return;
    const last = this.deps.hub.detach(this);
    try {
      await this.deps.services.presence.socketClosed(this.userId, this.presenceId);
      if (last) await this.deps.services.typing.stopAll(this.userId);
    } catch (err) {
      this.deps.logger.warn("socket cleanup failed", { "error.message": String(err) });
    }
  }
}
