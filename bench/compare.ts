// Before/after in the same run: runs the send and fan-out benchmarks alternately in a baseline
// checkout (e.g. a `git worktree` of the commit before a change) and in this tree, `--rounds` times
// each (A B A B …, so drift on a shared machine hits both alike), and prints medians and ratios.
//
//   git worktree add /tmp/parley-base <commit>
//   deno run -A bench/compare.ts --baseline /tmp/parley-base [--rounds 3] [--quick]
import { round } from "./_lib.ts";

const arg = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const baseline = arg("--baseline");
if (!baseline) {
  console.error("usage: deno run -A bench/compare.ts --baseline DIR [--rounds N] [--quick]");
  Deno.exit(2);
}
const rounds = Number(arg("--rounds") ?? 3);
const quick = Deno.args.includes("--quick");
const here = new URL("../", import.meta.url).pathname;

/** The figures compared: durable sends (closed and open loop) and the fan-out knee. */
interface Figures {
  sendsPerSecond: number;
  sendAckP99Ms: number;
  openLoopAckP99Ms: number;
  fanoutDeliveredPerSecond: number;
  fanoutP99Ms: number;
}

async function runIn(root: string): Promise<Figures> {
  const args = [
    "run",
    "-A",
    "bench/run.ts",
    "--only",
    "send,fanout",
    ...(quick ? ["--quick"] : []),
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: root, stdout: "null" }).output();
  if (!out.success) {
    throw new Error(`bench failed in ${root}: ${new TextDecoder().decode(out.stderr)}`);
  }
  const r = JSON.parse(await Deno.readTextFile(`${root}/bench/results/latest.json`));
  // One fixed offered load for both trees (20 msg/s per room), so the ratio compares like with like.
  const top = r.fanout.steps.find((s: { ratePerRoom: number }) => s.ratePerRoom === 20) ??
    r.fanout.steps.at(-1);
  return {
    sendsPerSecond: r.send.groupCommit.messagesPerSecond,
    sendAckP99Ms: r.send.groupCommit.ackP99Ms,
    openLoopAckP99Ms: r.send.openLoop.ackP99Ms,
    fanoutDeliveredPerSecond: top.deliveredPerSecond,
    fanoutP99Ms: top.p99Ms,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const runs: Record<"before" | "after", Figures[]> = { before: [], after: [] };
for (let i = 0; i < rounds; i++) {
  for (const [side, root] of [["before", baseline], ["after", here]] as const) {
    console.error(`compare: round ${i + 1}/${rounds}, ${side} …`);
    const f = await runIn(root);
    runs[side].push(f);
    console.error(`compare: ${side} ${JSON.stringify(f)}`);
  }
}

const lines = [
  "| figure | before (median) | after (median) | after / before |",
  "| --- | --- | --- | --- |",
];
for (const key of Object.keys(runs.before[0]) as Array<keyof Figures>) {
  const b = median(runs.before.map((f) => f[key]));
  const a = median(runs.after.map((f) => f[key]));
  lines.push(`| ${key} | ${round(b, 1)} | ${round(a, 1)} | ${round(a / b, 3)} |`);
}
const report = { at: new Date().toISOString(), baseline, rounds, quick, runs, table: lines };
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/compare.json", import.meta.url),
  JSON.stringify(report, null, 2) + "\n",
);
console.log(lines.join("\n"));
