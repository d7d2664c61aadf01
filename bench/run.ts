// `deno task bench`: runs every benchmark on this machine and writes bench/results/latest.json and
// bench/results/latest.md. Figures drift ±40 % between runs on shared machines, so each benchmark
// reports ratios against a reference measured in the same run where one exists (../shared/BENCHMARKS.md).
//
//   deno task bench [--quick] [--only send,fanout,memory,login,list,threads,media,blobs,push,export,search,search-cost]
import { runConversationListBench } from "./conversations_bench.ts";
import { runFanoutBench } from "./fanout_bench.ts";
import { runLoginBench } from "./login_bench.ts";
import { runMediaBench } from "./media_bench.ts";
import { runMemoryBench } from "./memory_bench.ts";
import { runSendBench } from "./send_bench.ts";
import { runBlobsBench } from "./blobs_bench.ts";
import { runPushBench } from "./push_bench.ts";
import { runExportBench } from "./export_bench.ts";
import { runSearchBench } from "./search_bench.ts";
import { runSearchCostBench } from "./search_cost_bench.ts";
import { runThreadBench } from "./threads_bench.ts";

const quick = Deno.args.includes("--quick");
const onlyArg = Deno.args[Deno.args.indexOf("--only") + 1];
const only = Deno.args.includes("--only") ? new Set(onlyArg.split(",")) : undefined;
const want = (name: string) => !only || only.has(name);

/** The steady rate of the open-loop send run: latency at a given load, not at saturation. */
const OPEN_LOOP_RATE = 4000;

const results: Record<string, unknown> = {
  machine: `${Deno.build.os}/${Deno.build.arch}`,
  at: new Date().toISOString(),
};
const lines: string[] = [];

async function step<T>(
  name: string,
  run: () => Promise<T>,
  row: (r: T) => string[],
): Promise<void> {
  if (!want(name)) return;
  console.error(`bench: ${name} …`);
  const t0 = performance.now();
  try {
    const r = await run();
    results[name] = r;
    lines.push(...row(r));
    console.error(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } catch (err) {
    results[name] = { error: String(err) };
    lines.push(`| ${name} | failed: ${String(err).slice(0, 120)} | |`);
    console.error(`bench: ${name} failed: ${err}`);
  }
}

await step("send", async () => ({
  groupCommit: await runSendBench({
    groupCommit: true,
    seconds: quick ? 4 : 8,
    senders: 40,
    window: 4,
  }),
  noGroupCommit: await runSendBench({
    groupCommit: false,
    seconds: quick ? 4 : 8,
    senders: 40,
    window: 4,
  }),
  openLoop: await runSendBench({
    groupCommit: true,
    seconds: quick ? 4 : 8,
    senders: 40,
    rate: OPEN_LOOP_RATE,
  }),
}), (r) => [
  `| durable sends (persist + ack), group commit on | ${r.groupCommit.messagesPerSecond} msg/s, ack p50 ${r.groupCommit.ackP50Ms} ms, p99 ${r.groupCommit.ackP99Ms} ms | ≥ 5,000 msg/s, p99 ≤ 50 ms |`,
  `| durable sends, group commit off | ${r.noGroupCommit.messagesPerSecond} msg/s, ack p99 ${r.noGroupCommit.ackP99Ms} ms (on/off ratio ${
    (r.groupCommit.messagesPerSecond / r.noGroupCommit.messagesPerSecond).toFixed(1)
  }×) | |`,
  `| durable sends offered at a steady ${r.openLoop.offeredPerSecond} msg/s (open loop) | ${r.openLoop.messagesPerSecond} msg/s, ack p50 ${r.openLoop.ackP50Ms} ms, p99 ${r.openLoop.ackP99Ms} ms | p99 ≤ 50 ms |`,
]);

await step(
  "fanout",
  () =>
    runFanoutBench({ rooms: quick ? 10 : 20, seconds: quick ? 4 : 6, rates: [10, 20, 30, 40, 60] }),
  (r) => [
    `| fan-out, ${r.rooms} rooms × ${r.roomSize} across 2 instances + Redis | ${
      r.best
        ? `${r.best.deliveredPerSecond} deliveries/s at p99 ${r.best.p99Ms} ms, 0 lost (${r.best.serverCpuUsPerDelivery} µs server CPU per delivery)`
        : "no step within p99 ≤ 50 ms"
    } | ≥ 20,000/s at p99 ≤ 50 ms |`,
  ],
);

await step("memory", () => runMemoryBench({ sockets: quick ? 2000 : 10_000, users: 1000 }), (r) => [
  `| memory per idle authenticated socket (${r.sockets} sockets) | ${
    (r.parleyBytesPerSocket / 1024).toFixed(1)
  } KB vs bare Deno ${(r.bareBytesPerSocket / 1024).toFixed(1)} KB = ${r.ratio}× | ≤ 1.25× bare |`,
]);

await step("login", () => runLoginBench({ seconds: quick ? 3 : 5 }), (r) => [
  `| logins (argon2id 19 MiB, t=2, 2 workers) | ${r.loginsPerSecond} logins/s | |`,
  `| HTTP p99 of other requests during a login storm | ${r.baselineP99Ms} ms → ${r.stormP99Ms} ms (${r.ratio}×) | |`,
]);

await step(
  "list",
  () => runConversationListBench({ conversations: 1000, samples: quick ? 20 : 50 }),
  (r) => [
    `| conversation list page (${r.conversations} conversations, limit ${r.pageSize}) | p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms | < 50 ms |`,
  ],
);

await step(
  "threads",
  () => runThreadBench({ replies: quick ? 1000 : 2000, samples: quick ? 20 : 50 }),
  (r) => [
    `| thread page (${r.replies} replies, limit ${r.pageSize}, newest then back) | p50 ${r.threadPage.p50Ms} ms, p99 ${r.threadPage.p99Ms} ms | ≤ 50 ms p99 |`,
    `| thread list (${r.threads} threads) / followed threads | p99 ${r.threadList.p99Ms} ms / ${r.followedThreads.p99Ms} ms | ≤ 50 ms p99 |`,
    `| main history page among ${r.replies} thread-only replies | p50 ${r.mainHistory.p50Ms} ms, p99 ${r.mainHistory.p99Ms} ms | |`,
  ],
);

await step("media", () => runMediaBench(), (r) => [
  `| media: ~1 MB JPEGs, upload + processing | ${r.imagesPerSecond} images/s (${r.imageMBPerSecond} MB/s) | |`,
  `| media: ${r.videoSourceSeconds} s video to H.264/AAC + poster | ${r.videoProcessingSeconds} s (${r.videoRealtimeFactor}× realtime) | |`,
  `| socket ping while media processes | p50 ${r.idlePingP50Ms} → ${r.busyPingP50Ms} ms, p99 ${r.idlePingP99Ms} → ${r.busyPingP99Ms} ms | |`,
]);

await step("blobs", () => runBlobsBench({ megabytes: quick ? 32 : 64 }), (r) => [
  `| blob writes, encrypted (${r.megabytes} MB): local / S3 (s3rver, loopback) | ${r.local.writeMBps} / ${r.s3.writeMBps} MB/s (${r.writeRatio}×) | |`,
  `| ranged reads, 1 MiB decrypted: local / S3 | ${r.local.rangedReadMBps} / ${r.s3.rangedReadMBps} MB/s (${r.readRatio}×), p99 ${r.local.rangedReadP99Ms} / ${r.s3.rangedReadP99Ms} ms | |`,
  `| server RSS growth uploading a ${r.upload.s3.videoMB} MB video: to S3 / locally | ${r.upload.s3.peakRssGrowthMB} / ${r.upload.local.peakRssGrowthMB} MB (again: ${r.upload.s3.againPeakRssGrowthMB} / ${r.upload.local.againPeakRssGrowthMB} MB; the first upload of any size into a fresh process: ${r.upload.s3.warmUpPeakGrowthMB} / ${r.upload.local.warmUpPeakGrowthMB} MB, once) | < 64 MB |`,
]);

await step("push", () => runPushBench({ messages: quick ? 50 : 100, recipients: 20 }), (r) => [
  `| Web Push: ${r.messages} messages × ${r.recipients} offline devices (VAPID + aes128gcm) | ${r.pushesPerSecond} pushes/s; ${r.pushesPerCpuSecond} pushes per server CPU-second (${r.serverCpuMsPerPush} ms each) | |`,
]);

await step(
  "export",
  () => runExportBench({ messages: 10_000, documentMB: quick ? 20 : 80 }),
  (r) => [
    `| conversation export (${r.images} images + a ${r.documentMB} MB document): ${r.small.messages} / ${r.large.messages} messages | ${r.small.seconds} / ${r.large.seconds} s; peak RSS growth ${r.small.peakGrowthMB} / ${r.large.peakGrowthMB} MB | constant memory |`,
  ],
);

await step(
  "search",
  () => runSearchBench({ messages: quick ? 100_000 : 1_000_000, samples: quick ? 50 : 200 }),
  (r) => [
    `| search, ${r.messages} messages in ${r.conversations} conversations: one conversation | p50 ${r.conversationScoped.p50Ms} ms, p99 ${r.conversationScoped.p99Ms} ms | ≤ 20 ms p99 |`,
    `| search: global, a user in 200 conversations | p50 ${r.global.p50Ms} ms, p99 ${r.global.p99Ms} ms | ≤ 100 ms p99 |`,
    `| search: indexing a backlog (catch-up) | ${r.indexedPerSecond} messages/s | |`,
  ],
);

await step(
  "search-cost",
  () => runSearchCostBench({ rounds: 3, seconds: quick ? 4 : 6 }),
  (r) => [
    `| durable sends with the search index on / off (${r.rounds} alternating rounds, medians) | ${r.on.messagesPerSecond} / ${r.off.messagesPerSecond} msg/s (${r.ratio.messagesPerSecond}×), ack p99 ${r.on.ackP99Ms} / ${r.off.ackP99Ms} ms, CPU ${r.on.serverCpuMsPerMessage} / ${r.off.serverCpuMsPerMessage} ms/msg; at ${r.openLoopRate} msg/s p50 ${r.on.openLoopP50Ms} / ${r.off.openLoopP50Ms} ms, p99 ${r.on.openLoopP99Ms} / ${r.off.openLoopP99Ms} ms | sends/s within 10 % |`,
  ],
);

const table = ["| benchmark | result | target |", "| --- | --- | --- |", ...lines].join("\n");
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/latest.json", import.meta.url),
  JSON.stringify(results, null, 2) + "\n",
);
await Deno.writeTextFile(new URL("./results/latest.md", import.meta.url), table + "\n");
console.log(table);
