import { spawnServer } from "../tests/support/process.ts";
import { LeanSocket } from "./_lean_ws.ts";
import { BENCH_ENV, registerMany, round, rssBytes } from "./_lib.ts";

/** What {@link runMemoryBench} reports. */
export interface MemoryResult {
  sockets: number;
  users: number;
  parleyBytesPerSocket: number;
  bareBytesPerSocket: number;
  ratio: number;
}

async function settledRss(pid: number): Promise<number> {
  // RSS drifts while allocations settle; take the median of a few readings a moment apart.
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 400));
    samples.push(rssBytes(pid));
  }
  return samples.sort((a, b) => a - b)[2];
}

async function openMany(n: number, open: (i: number) => Promise<LeanSocket | WebSocket>) {
  const out: Array<LeanSocket | WebSocket> = [];
  for (let i = 0; i < n; i += 200) {
    out.push(
      ...await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => open(i + j))),
    );
  }
  return out;
}

/**
 * Memory per idle authenticated connection: RSS growth of a Parley process while `sockets` sockets
 * (of `users` users, each in a direct conversation) sit idle, against a bare Deno WebSocket server
 * (no auth, no state) measured the same way in the same run (see ../shared/BENCHMARKS.md).
 */
export async function runMemoryBench(
  options: { sockets?: number; users?: number } = {},
): Promise<MemoryResult> {
  const { sockets = 10_000, users = 1000 } = options;
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-mem-" });
  // Set up in one process, measure in a fresh one: registration (argon2, request garbage) would
  // otherwise move the baseline by more than the sockets cost.
  const setup = await spawnServer({ ...BENCH_ENV, DATA_DIR: dataDir });
  const people = await registerMany(setup.url, users);
  for (let i = 0; i + 1 < people.length; i += 2) {
    await people[i].client.post("/v1/conversations", { type: "direct", userId: people[i + 1].id });
  }
  setup.kill("SIGTERM");
  await setup.exited;
  const server = await spawnServer({ ...BENCH_ENV, DATA_DIR: dataDir });
  let parley: number;
  try {
    // Warm the socket path (code loaded, pools sized) before the baseline.
    const warm = await openMany(50, (i) => LeanSocket.open(server.url, people[i].token));
    for (const s of warm) (s as LeanSocket).close();
    const before = await settledRss(server.child.pid);
    const open = await openMany(
      sockets,
      (i) => LeanSocket.open(server.url, people[i % users].token),
    );
    const after = await settledRss(server.child.pid);
    parley = (after - before) / sockets;
    for (const s of open) (s as LeanSocket).close();
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    await Deno.remove(dataDir, { recursive: true });
  }

  const bare = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./bare_ws_server.ts", import.meta.url).pathname, "room", "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = bare.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = JSON.parse((await reader.read()).value!.split("\n")[0])["server.port"];
  let bareBytes: number;
  try {
    const warm = await openMany(50, (i) =>
      new Promise<WebSocket>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.onopen = () => ws.send(JSON.stringify({ room: `w${i}` }));
        ws.onmessage = () => resolve(ws);
      }));
    for (const s of warm) (s as WebSocket).close();
    const before = await settledRss(bare.pid);
    const open = await openMany(sockets, (i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.onopen = () => ws.send(JSON.stringify({ room: `r${i % 200}` }));
        ws.onmessage = () => resolve(ws);
        ws.onerror = () => reject(new Error("bare socket failed"));
      }));
    const after = await settledRss(bare.pid);
    bareBytes = (after - before) / sockets;
    for (const s of open) (s as WebSocket).close();
  } finally {
    bare.kill("SIGTERM");
    await bare.status;
    await reader.cancel().catch(() => {});
  }
  return {
    sockets,
    users,
    parleyBytesPerSocket: round(parley, 0),
    bareBytesPerSocket: round(bareBytes, 0),
    ratio: round(parley / bareBytes, 2),
  };
}

if (import.meta.main) {
  const sockets = Number(Deno.args[0] ?? 10_000);
  console.log(JSON.stringify(await runMemoryBench({ sockets, users: Math.min(1000, sockets) })));
}
