/**
 * A fault-injecting TCP proxy on loopback (netem is not available here): it forwards every
 * connection to one target and can, at any moment,
 * - `delay(ms)`: hold every chunk `ms` before passing it on (order kept, throughput not capped),
 * - `blackhole()`: stop passing bytes in both directions on old and new connections, as a network
 *   that drops every packet does while TCP keeps retrying; `heal()` lets the held bytes through,
 * - `cut()`: close every open connection at once (a reset, as seen by both ends),
 * - `partition()`: cut, and close every new connection on arrival until `heal()`.
 * Bytes are never dropped from a live stream: a protocol stream with a hole in it is not a network
 * fault any real network produces.
 */
export class FaultProxy {
  #listener: Deno.TcpListener;
  #pairs = new Set<{ a: Deno.TcpConn; b: Deno.TcpConn }>();
  #delayMs = 0;
  #refusing = false;
  #held: PromiseWithResolvers<void> | null = null;
  #closed = false;
  /** Connections accepted so far (a proxy test can see a client reconnect). */
  accepted = 0;

  private constructor(
    listener: Deno.TcpListener,
    readonly target: { hostname: string; port: number },
  ) {
    this.#listener = listener;
    void this.#accept();
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static start(target: { hostname?: string; port: number }, port = 0): FaultProxy {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    return new FaultProxy(listener, {
      hostname: target.hostname ?? "127.0.0.1",
      port: target.port,
    });
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** What the proxy is doing now (for the chaos log). */
  get state(): string {
    if (this.#refusing) return "partitioned";
    if (this.#held) return "blackholed";
    return this.#delayMs ? `delayed ${this.#delayMs} ms` : "passing";
  }

  delay(ms: number): void {
    this.#delayMs = ms;
  }

  blackhole(): void {
    this.#held ??= Promise.withResolvers<void>();
  }

  cut(): void {
    for (const pair of this.#pairs) closePair(pair);
    this.#pairs.clear();
  }

  partition(): void {
    this.#refusing = true;
    this.cut();
  }

  /** Back to passing everything at once: no delay, held bytes released, connections accepted. */
  heal(): void {
    this.#delayMs = 0;
    this.#refusing = false;
    this.#held?.resolve();
    this.#held = null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.heal();
    this.cut();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let a: Deno.TcpConn;
      try {
        a = await this.#listener.accept();
      } catch {
        return; // closed
      }
      this.accepted++;
      if (this.#refusing) {
        a.close();
        continue;
      }
      void this.#connect(a);
    }
  }

  async #connect(a: Deno.TcpConn): Promise<void> {
    let b: Deno.TcpConn;
    try {
      b = await Deno.connect(this.target);
    } catch {
      a.close(); // the target is down: the client sees its connection closed
      return;
    }
    if (this.#refusing || this.#closed) return closePair({ a, b });
    a.setNoDelay(true);
    b.setNoDelay(true);
    const pair = { a, b };
    this.#pairs.add(pair);
    const done = () => {
      this.#pairs.delete(pair);
      closePair(pair);
    };
    void Promise.all([this.#pipe(a, b), this.#pipe(b, a)]).finally(done);
  }

  /** Copies `from` to `to`, each chunk sent at its arrival time plus the delay then in force. */
  async #pipe(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const queue: Array<{ bytes: Uint8Array; due: number }> = [];
    let wake = null as (() => void) | null;
    let ended = false;
    const reading = (async () => {
      try {
        for await (const bytes of from.readable) {
          queue.push({ bytes, due: performance.now() + this.#delayMs });
          wake?.();
        }
      } catch {
        // reset or closed by cut()
      } finally {
        ended = true;
        wake?.();
      }
    })();
    const writer = to.writable.getWriter();
    try {
      for (;;) {
        const next = queue.shift();
        if (!next) {
          if (ended) break;
          await new Promise<void>((r) => wake = r);
          wake = null;
          continue;
        }
        const wait = next.due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        while (this.#held) await this.#held.promise;
        await writer.write(next.bytes);
      }
    } catch {
      // the other side went away
    } finally {
      writer.releaseLock();
      await reading;
      closePair({ a: from, b: to });
    }
  }
}

function closePair({ a, b }: { a: Deno.TcpConn; b: Deno.TcpConn }): void {
  for (const c of [a, b]) {
    try {
      c.close();
    } catch {
      // already closed
    }
  }
}
