/** A redis-server for tests: the one `REDIS_TEST_URL` names, or a private one on a free port. */
export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (simulating an outage); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers; `resume` thaws it. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
  /** {@link TestRedis.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      if (up) return;
    } catch {
      if (!up) return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis on ${port} did not ${up ? "start" : "stop"} in time`);
}

/**
 * The Redis that tests share: `REDIS_TEST_URL` when CI started one, otherwise a private server.
 * Tests that stop and restart Redis always use {@link startRedis} instead.
 */
export async function sharedRedis(): Promise<
  { url: string; close(): Promise<void> } & AsyncDisposable
> {
  const url = Deno.env.get("REDIS_TEST_URL");
  if (url) {
    const close = () => Promise.resolve();
    return { url, close, [Symbol.asyncDispose]: close };
  }
  const own = await startRedis();
  return { url: own.url, close: own.close, [Symbol.asyncDispose]: own.close };
}

/**
 * Starts a private redis-server (no persistence) on a free loopback port. Fails loudly when the
 * binary is missing: the Redis adapters are part of the product and must be tested. With `dir`, the
 * server keeps its snapshot there: it is written only by an explicit `SAVE`, and a restart loads it,
 * so a test can make Redis go back in time.
 */
export async function startRedis(options: { dir?: string } = {}): Promise<TestRedis> {
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const snapshot = options.dir ? ["--dir", options.dir, "--dbfilename", "dump.rdb"] : [];
  const start = async () => {
    try {
      child = new Deno.Command("redis-server", {
        args: [
          ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
          ...snapshot,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      throw new Error(
        `redis-server is not installed (apt-get install -y redis-server), needed for the Redis tests: ${err}`,
      );
    }
    await waitForPort(port, true);
  };
  const stop = async () => {
    if (!child) return;
    child.kill("SIGKILL");
    await child.status;
    await child.stderr.cancel().catch(() => {});
    child = undefined;
    await waitForPort(port, false);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    close: stop,
    [Symbol.asyncDispose]: stop,
  };
}
