/** A frame from the server. */
export type Frame = Record<string, any> & { type: string };

/**
 * A WebSocket test client that records every frame and lets tests wait for the ones they expect,
 * never sleeping blindly.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<{
    match: (f: Frame) => boolean;
    resolve: (f: Frame) => void;
    reject: (err: Error) => void;
  }> = [];
  /** Frames already handed to a waiter; each frame satisfies one wait at most. */
  #claimed = new Set<number>();
  #nextId = 1;
  #opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    this.#opened = new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`socket error: ${(e as ErrorEvent).message ?? e.type}`));
    });
    this.closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        resolve({ code: e.code, reason: e.reason });
        // No frame can arrive any more: fail the waits now rather than leave their timers running.
        for (const w of this.#waiters.splice(0)) {
          w.reject(new Error(`socket closed (${e.code}) before a matching frame arrived`));
        }
      };
    });
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data as string) as Frame;
      this.frames.push(frame);
      const index = this.frames.length - 1;
      const waiter = this.#waiters.find((w) => w.match(frame));
      if (waiter) {
        this.#claimed.add(index);
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    };
  }

  /** Opens a socket to `base` (http URL of the server). */
  static async open(base: string, headers?: Record<string, string>): Promise<WsClient> {
    const url = base.replace(/^http/, "ws") + "/v1/ws";
    const ws = headers
      ? new WebSocket(url, { headers } as unknown as string[])
      : new WebSocket(url);
    const client = new WsClient(ws);
    await client.#opened;
    return client;
  }

  /** Opens, authenticates and waits for `ready`. */
  static async connect(
    base: string,
    token: string,
    resume?: Record<string, number>,
  ): Promise<WsClient> {
    const client = await WsClient.open(base);
    client.send({ type: "auth", token, ...(resume ? { resume } : {}) });
    await client.next((f) => f.type === "ready");
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends a frame with a fresh id and resolves with its ack. */
  async request(frame: Record<string, unknown>, timeoutMs = 5000): Promise<Frame> {
    const id = `r${this.#nextId++}`;
    const ack = this.next((f) => f.type === "ack" && f.id === id, timeoutMs);
    this.send({ ...frame, id });
    return await ack;
  }

  /**
   * Resolves with the earliest frame matching `match` that no earlier wait claimed, whether it already
   * arrived or arrives later; rejects after `timeoutMs`, or once the socket has closed.
   */
  next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const index = this.frames.findIndex((f, i) => !this.#claimed.has(i) && match(f));
    if (index >= 0) {
      this.#claimed.add(index);
      return Promise.resolve(this.frames[index]);
    }
    if (this.ws.readyState === WebSocket.CLOSED) {
      return Promise.reject(new Error("socket closed before a matching frame arrived"));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        const recent = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 300));
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; last frames: ${recent.join(" | ")}`),
        );
      }, timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      this.#waiters.push({ match, resolve: done, reject: fail });
    });
  }

  /** Resolves with the next `event` frame named `name` (optionally in a conversation). */
  event(name: string, conversationId?: string, timeoutMs = 5000): Promise<Frame> {
    return this.next(
      (f) =>
        f.type === "event" && f.event === name &&
        (!conversationId || f.conversationId === conversationId),
      timeoutMs,
    );
  }

  /** Every `event` frame received so far, optionally of one conversation. */
  events(conversationId?: string): Frame[] {
    return this.frames.filter((f) =>
      f.type === "event" && (!conversationId || f.conversationId === conversationId)
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
    }
    await this.closed;
  }
}
