// Push throughput: a server (child process) pushes every message of a group to each offline
// member's Web Push subscription at a local push service (another process's work: decrypting);
// reported as pushes per second and per second of the server's CPU (pushes/s per core).
//   deno run -A bench/push_bench.ts [messages] [recipients]
import { BENCH_ENV, cpuSeconds, registerMany, round } from "./_lib.ts";
import { PushService } from "../tests/support/push_service.ts";
import { spawnServer } from "../tests/support/process.ts";

export interface PushBenchResult {
  messages: number;
  recipients: number;
  pushes: number;
  seconds: number;
  pushesPerSecond: number;
  /** Pushes per second of server CPU: what one core sustains. */
  pushesPerCpuSecond: number;
  serverCpuMsPerPush: number;
}

export async function runPushBench(
  options: { messages?: number; recipients?: number } = {},
): Promise<PushBenchResult> {
  const messages = options.messages ?? 100;
  const recipients = options.recipients ?? 20;
  const dir = await Deno.makeTempDir({ prefix: "parley-bench-push-" });
  await using server = await spawnServer({
    ...BENCH_ENV,
    DATA_DIR: dir,
    OUTBOUND_ALLOW_PRIVATE: "true",
    PUSH_DELAY_MS: "0",
  });
  await using service = await PushService.start();
  const [sender, ...others] = await registerMany(server.url, recipients + 1);
  for (const u of others) {
    const sub = await service.subscribe();
    const res = await u.client.post("/v1/push/subscriptions", {
      kind: "webpush",
      endpoint: sub.endpoint,
      keys: sub.keys,
    });
    if (res.status !== 201) throw new Error(`subscribe: ${res.status}`);
  }
  const group = await sender.client.post("/v1/conversations", {
    type: "group",
    name: "bench",
    memberIds: others.map((u) => u.id),
  });
  const pid = server.child.pid;
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    const res = await sender.client.post(`/v1/conversations/${group.body.id}/messages`, {
      clientMsgId: `p${i}`,
      text: `push benchmark message ${i}`,
    });
    if (res.status !== 201) throw new Error(`send: ${res.status}`);
  }
  const pushes = messages * recipients;
  await service.waitForPush(pushes, { timeoutMs: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return {
    messages,
    recipients,
    pushes,
    seconds: round(seconds, 2),
    pushesPerSecond: round(pushes / seconds, 0),
    pushesPerCpuSecond: round(pushes / cpu, 0),
    serverCpuMsPerPush: round((cpu * 1000) / pushes, 2),
  };
}

if (import.meta.main) {
  const [messages, recipients] = Deno.args.map(Number);
  console.log(JSON.stringify(await runPushBench({ messages, recipients }), null, 2));
}
