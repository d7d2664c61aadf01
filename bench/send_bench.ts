import { spawnServer } from "../tests/support/process.ts";
import { LeanSocket } from "./_lean_ws.ts";
import { BENCH_ENV, cpuSeconds, percentile, registerMany, round } from "./_lib.ts";

/** What {@link runSendBench} measures. */
export interface SendResult {
  groupCommit: boolean;
  /** The offered rate (msg/s) in open-loop mode; absent in closed-loop mode. */
  offeredPerSecond?: number;
  messagesPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** The slowest accepted message. */
  ackMaxMs: number;
  /** Sends refused by admission control (503 `overloaded`). */
  refused: number;
  serverCpuMsPerMessage: number;
}

/**
 * Durable sends against a server in its own process (SQLite, synchronous=FULL, so every commit is
 * fsynced). Every ack means the message was committed. Two modes:
 * - closed loop (no `rate`): `senders` sockets each keep `window` message.send frames in flight for
 *   `seconds` — the most the server can persist; latency then only reflects that queue;
 * - open loop (`rate`): the sockets together send `rate` messages per second on a fixed schedule,
 *   whatever the acks do, and latency is counted from each message's scheduled time (so a stalled
 *   server cannot hide its backlog: no coordinated omission). This answers "at N msg/s, what p99?".
 */
export async function runSendBench(
  options: {
    groupCommit: boolean;
    seconds?: number;
    senders?: number;
    window?: number;
    /** Open loop: messages per second offered by all sockets together. */
    rate?: number;
    env?: Record<string, string>;
  },
): Promise<SendResult> {
  const { groupCommit, seconds = 8, senders = 40, window = 8 } = options;
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-send-" });
  const server = await spawnServer({
    ...BENCH_ENV,
    ...options.env,
    DATA_DIR: dataDir,
    GROUP_COMMIT: String(groupCommit),
  });
  try {
    const users = await registerMany(server.url, senders + 1);
    const [peer, ...rest] = users;
    const conversations = await Promise.all(
      rest.map(async (u) =>
        (await u.client.post("/v1/conversations", { type: "direct", userId: peer.id })).body.id
      ),
    );
    const sockets = await Promise.all(rest.map((u) => LeanSocket.open(server.url, u.token)));
    const latencies: number[] = [];
    let acked = 0;
    let refused = 0;
    let n = 0;
    const send = async (i: number, scheduled: number) => {
      const ack = await sockets[i].request({
        type: "message.send",
        conversationId: conversations[i],
        clientMsgId: `b${n++}`,
        text: "a benchmark message of modest length, like most chat messages are",
      });
      if (!ack.ok) {
        // Admission control refuses past capacity: counted, not an error of the run.
        if (ack.error?.code !== "overloaded") throw new Error(JSON.stringify(ack));
        refused++;
        return;
      }
      latencies.push(performance.now() - scheduled);
      acked++;
    };
    const until = performance.now() + seconds * 1000;
    const cpu0 = cpuSeconds(server.child.pid);
    const started = performance.now();
    if (options.rate) {
      // Each socket sends every `interval` ms, the sockets staggered evenly across one interval.
      const interval = (1000 * sockets.length) / options.rate;
      await Promise.all(sockets.map(async (_, i) => {
        const inFlight: Promise<void>[] = [];
        for (let due = started + (interval * i) / sockets.length; due < until; due += interval) {
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          inFlight.push(send(i, due));
        }
        await Promise.all(inFlight);
      }));
    } else {
      await Promise.all(sockets.map(async (_, i) => {
        const pump = async () => {
          while (performance.now() < until) await send(i, performance.now());
        };
        await Promise.all(Array.from({ length: window }, pump));
      }));
    }
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(server.child.pid) - cpu0;
    if (Deno.env.get("BENCH_DEBUG")) {
      console.error(`client cpu ${cpuSeconds(Deno.pid)}s, server cpu ${cpu}s over ${elapsed}s`);
    }
    for (const s of sockets) s.close();
    return {
      groupCommit,
      offeredPerSecond: options.rate,
      messagesPerSecond: round(acked / elapsed, 0),
      ackP50Ms: round(percentile(latencies, 50), 2),
      ackP99Ms: round(percentile(latencies, 99), 2),
      ackMaxMs: round(latencies.reduce((m, x) => Math.max(m, x), 0), 1),
      refused,
      serverCpuMsPerMessage: round((cpu * 1000) / acked, 3),
    };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  const [seconds = "8", senders = "40", window = "8", sync = "FULL"] = Deno.args;
  for (const groupCommit of [true, false]) {
    const result = await runSendBench({
      groupCommit,
      seconds: Number(seconds),
      senders: Number(senders),
      window: Number(window),
      env: { SQLITE_SYNCHRONOUS: sync },
    });
    console.log(JSON.stringify(result));
  }
}
