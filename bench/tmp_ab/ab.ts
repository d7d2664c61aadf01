import { runSendBench } from "../send_bench.ts";
const rounds = Number(Deno.args[0] ?? 3);
const out: Record<string, any[]> = { off: [], on: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 ? ["on", "off"] : ["off", "on"]) {
    const env = { SEARCH_ENABLED: mode === "on" ? "true" : "false" };
    const closed = await runSendBench({ groupCommit: true, seconds: 6, env });
    const open = await runSendBench({ groupCommit: true, seconds: 6, rate: 1000, env });
    out[mode].push({
      mps: closed.messagesPerSecond,
      p99: closed.ackP99Ms,
      cpu: closed.serverCpuMsPerMessage,
      openP50: open.ackP50Ms,
      openP99: open.ackP99Ms,
    });
    console.log(mode, JSON.stringify(out[mode].at(-1)));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ["mps", "p99", "cpu", "openP50", "openP99"]) {
  const off = med(out.off.map((x) => x[k])), on = med(out.on.map((x) => x[k]));
  console.log(k, off, on, (on / off).toFixed(3));
}
