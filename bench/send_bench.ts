import { spawnServer } from "../tests/support/process.ts";
import { LeanSocket } from "./_lean_ws.ts";
import { BENCH_ENV, cpuSeconds, percentile, registerMany, round } from "./_lib.ts";

/** What {@link runSendBench} measures. */
export interface SendResult {
  groupCommit: boolean;
  messagesPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  serverCpuMsPerMessage: number;
}

/**
 * Durable sends: `senders` sockets each keep `window` message.send frames in flight for `seconds`
 * against a server in its own process (SQLite, synchronous=FULL, so every commit is fsynced). Every
 * ack means the message was committed. Reports acked messages per second and ack latency.
 */
export async function runSendBench(
  options: {
    groupCommit: boolean;
    seconds?: number;
    senders?: number;
    window?: number;
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
    let n = 0;
    const until = performance.now() + seconds * 1000;
    const cpu0 = cpuSeconds(server.child.pid);
    const started = performance.now();
    await Promise.all(sockets.map(async (ws, i) => {
      const pump = async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          const ack = await ws.request({
            type: "message.send",
            conversationId: conversations[i],
            clientMsgId: `b${n++}`,
            text: "a benchmark message of modest length, like most chat messages are",
          });
          if (!ack.ok) throw new Error(JSON.stringify(ack));
          latencies.push(performance.now() - t0);
          acked++;
        }
      };
      await Promise.all(Array.from({ length: window }, pump));
    }));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(server.child.pid) - cpu0;
    if (Deno.env.get("BENCH_DEBUG")) {
      console.error(`client cpu ${cpuSeconds(Deno.pid)}s, server cpu ${cpu}s over ${elapsed}s`);
    }
    for (const s of sockets) s.close();
    return {
      groupCommit,
      messagesPerSecond: round(acked / elapsed, 0),
      ackP50Ms: round(percentile(latencies, 50), 2),
      ackP99Ms: round(percentile(latencies, 99), 2),
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
