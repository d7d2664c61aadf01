/**
 * A minimal WebSocket client for load generation: correlates acks by id and counts events without
 * keeping frames, so the load generator costs as little CPU as possible.
 */
export class LeanSocket {
  #pending = new Map<
    string,
    (ack: { ok: boolean; message?: { seq: number }; error?: { code: string } }) => void
  >();
  #next = 0;
  events = 0;
  onEvent?: (raw: string) => void;

  private constructor(readonly ws: WebSocket) {}

  /** Opens, authenticates and resolves on `ready`. */
  static open(base: string, token: string): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(base.replace(/^http/, "ws") + "/v1/ws");
      const s = new LeanSocket(ws);
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
      ws.onerror = (e) => reject(new Error((e as ErrorEvent).message ?? "socket error"));
      ws.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
      ws.onmessage = (e) => {
        const raw = e.data as string;
        if (raw.startsWith('{"type":"ready"')) {
          ws.onclose = null;
          ws.onmessage = (m) => s.#frame(m.data as string);
          resolve(s);
        }
      };
    });
  }

  #frame(raw: string): void {
    if (raw.startsWith('{"type":"ack"')) {
      const ack = JSON.parse(raw);
      this.#pending.get(ack.id)?.(ack);
      this.#pending.delete(ack.id);
    } else if (raw.startsWith('{"type":"event"')) {
      this.events++;
      this.onEvent?.(raw);
    }
  }

  /** Sends a frame with a fresh id; resolves with its ack. */
  request(
    frame: Record<string, unknown>,
  ): Promise<{ ok: boolean; message?: { seq: number }; error?: { code: string } }> {
    const id = `${this.#next++}`;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  close(): void {
    this.ws.onclose = null;
    this.ws.close();
  }
}
