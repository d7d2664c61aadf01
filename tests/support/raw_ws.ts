/**
 * A bare-bones WebSocket client over a TCP socket, for what a normal client cannot do: stop reading
 * (backpressure) or never answer pings (heartbeat). Sends masked text frames; parses server frames.
 */
export class RawWsClient {
  #buf = new Uint8Array(0);

  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number, path = "/v1/ws"): Promise<RawWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    const client = new RawWsClient(conn);
    const head = await client.#readUntil(new TextEncoder().encode("\r\n\r\n"));
    if (!/^HTTP\/1.1 101/.test(head)) throw new Error(`handshake failed: ${head}`);
    return client;
  }

  /** Sends one masked text frame. */
  async sendText(text: string): Promise<void> {
    const payload = new TextEncoder().encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const len = payload.length;
    const header = len < 126
      ? [0x81, 0x80 | len]
      : len < 65536
      ? [0x81, 0x80 | 126, len >> 8, len & 255]
      : [
        0x81,
        0x80 | 127,
        0,
        0,
        0,
        0,
        (len >>> 24) & 255,
        (len >>> 16) & 255,
        (len >>> 8) & 255,
        len & 255,
      ];
    const frame = new Uint8Array(header.length + 4 + len);
    frame.set(header);
    frame.set(mask, header.length);
    for (let i = 0; i < len; i++) frame[header.length + 4 + i] = payload[i] ^ mask[i % 4];
    await this.conn.write(frame);
  }

  /** Reads the next frame; null at end of stream. Close frames carry their code. */
  async readFrame(): Promise<{ opcode: number; text?: string; code?: number } | null> {
    const head = await this.#take(2);
    if (!head) return null;
    let len = head[1] & 0x7f;
    if (len === 126) {
      const ext = await this.#take(2);
      if (!ext) return null;
      len = (ext[0] << 8) | ext[1];
    } else if (len === 127) {
      const ext = await this.#take(8);
      if (!ext) return null;
      len = Number(new DataView(ext.buffer, ext.byteOffset, 8).getBigUint64(0));
    }
    const payload = await this.#take(len);
    if (!payload) return null;
    const opcode = head[0] & 0x0f;
    if (opcode === 8) {
      return { opcode, code: payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005 };
    }
    return { opcode, text: opcode === 1 ? new TextDecoder().decode(payload) : undefined };
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  async #take(n: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) if (!(await this.#fill())) return null;
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async #readUntil(marker: Uint8Array): Promise<string> {
    for (;;) {
      const text = new TextDecoder().decode(this.#buf);
      const at = text.indexOf(new TextDecoder().decode(marker));
      if (at >= 0) {
        const headLen = new TextEncoder().encode(text.slice(0, at + marker.length)).length;
        this.#buf = this.#buf.slice(headLen);
        return text.slice(0, at);
      }
      if (!(await this.#fill())) throw new Error("connection closed during handshake");
    }
  }
}
