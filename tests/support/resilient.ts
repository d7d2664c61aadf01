import { type Frame, WsClient } from "./ws.ts";

/**
 * A client that behaves like a real app on a flaky network: it remembers the last seq it saw per
 * conversation, reconnects (to the next server in its list) with `resume` when its socket dies, and
 * re-sends unacknowledged messages with the same clientMsgId. It records every durable event it
 * receives so a test can check exactly-once, in-order delivery across reconnects.
 */
export class ResilientClient {
  /** Durable event seqs received per conversation, in arrival order, across all connections. */
  readonly received = new Map<string, number[]>();
  readonly lastSeq = new Map<string, number>();
  #ws?: WsClient;
  #server = 0;
  #closing = false;
  #reconnecting?: Promise<void>;
  reconnects = 0;

  constructor(readonly servers: string[], readonly token: string) {}

  async connect(): Promise<void> {
    const resume = Object.fromEntries(this.lastSeq);
    const ws = await WsClient.connect(this.servers[this.#server], this.token, resume);
    this.#ws = ws;
    for (const c of ws.frames[0].conversations as Array<{ id: string; lastSeq: number }>) {
      if (!this.lastSeq.has(c.id)) this.lastSeq.set(c.id, c.lastSeq);
    }
    const onFrame = ws.ws.onmessage!;
    ws.ws.onmessage = (e) => {
      onFrame.call(ws.ws, e);
      this.#record(JSON.parse(e.data as string));
    };
    for (const f of ws.frames.slice(1)) this.#record(f);
    void ws.closed.then(() => {
      if (!this.#closing && this.#ws === ws) this.#reconnecting = this.#reconnect();
    });
  }

  #record(f: Frame): void {
    if (f.type !== "event" || f.seq === undefined) return;
    const list = this.received.get(f.conversationId) ?? [];
    list.push(f.seq);
    this.received.set(f.conversationId, list);
    this.lastSeq.set(f.conversationId, Math.max(this.lastSeq.get(f.conversationId) ?? 0, f.seq));
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      this.#server = (this.#server + 1) % this.servers.length;
      try {
        this.reconnects++;
        await this.connect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error("could not reconnect");
  }

  /** Sends until acknowledged, across reconnects; resolves with the stored message. */
  async send(conversationId: string, clientMsgId: string, text: string): Promise<Frame> {
    for (let attempt = 0; attempt < 100; attempt++) {
      await this.#reconnecting;
      const ws = this.#ws!;
      try {
        const ack = await Promise.race([
          ws.request({ type: "message.send", conversationId, clientMsgId, text }, 10_000),
          ws.closed.then(() => {
            throw new Error("socket closed before the ack");
          }),
        ]);
        if (ack.ok) return ack.message;
        throw new Error(`send refused: ${JSON.stringify(ack.error)}`);
      } catch (err) {
        if (String(err).includes("send refused")) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    throw new Error(`message ${clientMsgId} never acknowledged`);
  }

  /** Resolves once an event with seq >= `seq` arrived in the conversation. */
  async waitFor(conversationId: string, seq: number, timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.lastSeq.get(conversationId) ?? 0) < seq) {
      if (Date.now() > until) {
        throw new Error(
          `reached seq ${this.lastSeq.get(conversationId)} of ${seq} in ${conversationId}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get socket(): WsClient | undefined {
    return this.#ws;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#ws?.close();
  }
}
