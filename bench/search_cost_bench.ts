// What indexing for search costs the send path: durable sends with the index on and off
// (`SEARCH_ENABLED`), in alternating rounds of the same run, closed loop (the most the server
// persists) and open loop at a steady rate; medians of the rounds and their ratios.
//   deno run -A bench/search_cost_bench.ts [rounds] [seconds]
import { runSendBench, type SendResult } from "./send_bench.ts";
import { round } from "./_lib.ts";

export interface SearchCostFigures {
  messagesPerSecond: number;
  ackP99Ms: number;
  serverCpuMsPerMessage: number;
  openLoopP50Ms: number;
  openLoopP99Ms: number;
}

export interface SearchCostResult {
  rounds: number;
  openLoopRate: number;
  off: SearchCostFigures;
  on: SearchCostFigures;
  /** on / off, per figure. */
  ratio: SearchCostFigures;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function runSearchCostBench(
  options: { rounds?: number; seconds?: number; rate?: number } = {},
): Promise<SearchCostResult> {
  const { rounds = 3, seconds = 6, rate = 1000 } = options;
  const runs: Record<"on" | "off", Array<{ closed: SendResult; open: SendResult }>> = {
    on: [],
    off: [],
  };
  for (let r = 0; r < rounds; r++) {
    for (const mode of (r % 2 ? ["on", "off"] : ["off", "on"]) as Array<"on" | "off">) {
      const env = { SEARCH_ENABLED: String(mode === "on") };
      const closed = await runSendBench({
        groupCommit: true,
        seconds,
        senders: 40,
        window: 4,
        env,
      });
      const open = await runSendBench({ groupCommit: true, seconds, senders: 40, rate, env });
      runs[mode].push({ closed, open });
    }
  }
  const figures = (mode: "on" | "off"): SearchCostFigures => ({
    messagesPerSecond: Math.round(median(runs[mode].map((x) => x.closed.messagesPerSecond))),
    ackP99Ms: round(median(runs[mode].map((x) => x.closed.ackP99Ms)), 2),
    serverCpuMsPerMessage: round(median(runs[mode].map((x) => x.closed.serverCpuMsPerMessage)), 3),
    openLoopP50Ms: round(median(runs[mode].map((x) => x.open.ackP50Ms)), 2),
    openLoopP99Ms: round(median(runs[mode].map((x) => x.open.ackP99Ms)), 2),
  });
  const off = figures("off");
  const on = figures("on");
  const ratio = Object.fromEntries(
    Object.keys(off).map((k) => [
      k,
      round(on[k as keyof SearchCostFigures] / off[k as keyof SearchCostFigures], 3),
    ]),
  ) as unknown as SearchCostFigures;
  return { rounds, openLoopRate: rate, off, on, ratio };
}

if (import.meta.main) {
  const [rounds, seconds] = Deno.args.map(Number);
  console.log(
    JSON.stringify(
      await runSearchCostBench({ rounds: rounds || undefined, seconds: seconds || undefined }),
      null,
      2,
    ),
  );
}
