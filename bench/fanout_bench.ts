import { spawnServer } from "../tests/support/process.ts";
import { startRedis } from "../tests/support/redis.ts";
import { LeanSocket } from "./_lean_ws.ts";
import { BENCH_ENV, cpuSeconds, percentile, registerMany, round } from "./_lib.ts";

/** One step of the fan-out ramp. */
export interface FanoutStep {
  ratePerRoom: number;
  offeredPerSecond: number;
  deliveredPerSecond: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuUsPerDelivery: number;
}

/** What {@link runFanoutBench} reports. */
export interface FanoutResult {
  rooms: number;
  roomSize: number;
  instances: number;
  steps: FanoutStep[];
  /** The highest step with p99 ≤ 50 ms and nothing lost. */
  best: FanoutStep | null;
}

const now = () => performance.timeOrigin + performance.now();

/**
 * Fan-out across two instances sharing Redis and one store: `rooms` groups of `roomSize` members,
 * every member on a socket (alternating instances), one sender per room sending `rate` messages per
 * second spread over the second. Every member's socket (the sender's too) must receive every message;
 * latency is from send to receipt, measured in this process.
 */
export async function runFanoutBench(
  options: { rooms?: number; roomSize?: number; rates?: number[]; seconds?: number } = {},
): Promise<FanoutResult> {
  const { rooms = 20, roomSize = 50, rates = [5, 10, 20, 30, 40], seconds = 6 } = options;
  const redis = await startRedis();
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-fanout-" });
  const env = { ...BENCH_ENV, REDIS_URL: redis.url, DATA_DIR: dataDir, REDIS_PREFIX: "bench:" };
  const servers = [await spawnServer(env), await spawnServer(env)];
  try {
    const users = await registerMany(servers[0].url, rooms * roomSize);
    const groups: Array<{ id: string; members: typeof users }> = [];
    for (let r = 0; r < rooms; r++) {
      const members = users.slice(r * roomSize, (r + 1) * roomSize);
      const g = await members[0].client.post("/v1/conversations", {
        type: "group",
        name: `room ${r}`,
        memberIds: members.slice(1).map((u) => u.id),
      });
      groups.push({ id: g.body.id, members });
    }
    const latencies: number[] = [];
    let delivered = 0;
    const record = (raw: string) => {
      // clientMsgId is "f<sent ms>_<n>": read it without parsing the frame.
      const at = raw.indexOf('"clientMsgId":"f');
      if (at < 0) return;
      const end = raw.indexOf("_", at + 16);
      latencies.push(now() - Number(raw.slice(at + 16, end)));
      delivered++;
    };
    const sockets: LeanSocket[][] = [];
    for (const g of groups) {
      const row: LeanSocket[] = [];
      for (const [i, m] of g.members.entries()) {
        const s = await LeanSocket.open(servers[i % 2].url, m.token);
        s.onEvent = record;
        row.push(s);
      }
      sockets.push(row);
    }
    const cpu = () => servers.reduce((t, s) => t + cpuSeconds(s.child.pid), 0);
    const steps: FanoutStep[] = [];
    let n = 0;
    for (const rate of rates) {
      latencies.length = 0;
      delivered = 0;
      let sent = 0;
      const cpu0 = cpu();
      const started = now();
      await Promise.all(groups.map(async (g, r) => {
        const interval = 1000 / rate;
        // Spread the rooms over the interval so sends do not all land on the same tick.
        let next = started + (r / groups.length) * interval;
        while (next < started + seconds * 1000) {
          const wait = next - now();
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
          void sockets[r][0].request({
            type: "message.send",
            conversationId: g.id,
            clientMsgId: `f${Math.round(now())}_${n++}`,
            text: "fan-out benchmark message",
          });
          sent++;
          next += interval;
        }
      }));
      const expected = sent * roomSize;
      const until = now() + 5000;
      while (delivered < expected && now() < until) await new Promise((res) => setTimeout(res, 20));
      const elapsed = (now() - started) / 1000;
      steps.push({
        ratePerRoom: rate,
        offeredPerSecond: round(expected / seconds, 0),
        deliveredPerSecond: round(delivered / Math.max(seconds, elapsed - 0.001), 0),
        lost: expected - delivered,
        p50Ms: round(percentile(latencies, 50), 2),
        p99Ms: round(percentile(latencies, 99), 2),
        maxMs: round(latencies.reduce((m, x) => (x > m ? x : m), 0), 1),
        serverCpuUsPerDelivery: round(((cpu() - cpu0) * 1e6) / Math.max(1, delivered), 1),
      });
      const last = steps.at(-1)!;
      if (last.lost > 0 || last.p99Ms > 250) break;
    }
    for (const row of sockets) for (const s of row) s.close();
    const ok = steps.filter((s) => s.lost === 0 && s.p99Ms <= 50);
    return { rooms, roomSize, instances: 2, steps, best: ok.at(-1) ?? null };
  } finally {
    for (const s of servers) s.kill("SIGTERM");
    await Promise.all(servers.map((s) => s.exited));
    await redis.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  const rooms = Number(Deno.args[0] ?? 20);
  console.log(JSON.stringify(await runFanoutBench({ rooms }), null, 2));
}
