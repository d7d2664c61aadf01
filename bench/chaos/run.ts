// `deno task chaos`: Parley under faults. N instances share one store and one Redis; every instance
// reaches Redis through its own fault proxy and every client reaches its instance through another.
// While users send, the run SIGKILLs and pauses instances, restarts and pauses Redis, partitions,
// black-holes, delays and cuts the proxies; then it heals everything, waits for the clients to catch
// up and checks the total queue (bench/chaos/check.ts): 0 lost, duplicated, reordered, gaps, leaks.
//   deno task chaos              the full run; writes bench/results/chaos.md and the README figures
//   deno task chaos --short      the CI version (tests/chaos/chaos_test.ts runs it)
import { ChaosClient } from "./client.ts";
import { check, type StoredEvent, type Verdict } from "./check.ts";
import { FaultProxy } from "./proxy.ts";
import { type ServerProcess, spawnServer } from "../../tests/support/process.ts";
import { freePort, startRedis, type TestRedis } from "../../tests/support/redis.ts";

export interface ChaosOptions {
  short?: boolean;
  /** Messages to send at least (the run also lasts until every fault has been played). */
  messages?: number;
  instances?: number;
  users?: number;
  log?: (line: string) => void;
}

/** How many times each fault was played. */
export type FaultCounts = Record<FaultKind, number>;
type FaultKind =
  | "instance SIGKILL"
  | "instance SIGSTOP"
  | "Redis restart"
  | "Redis SIGSTOP"
  | "Redis partition (one instance)"
  | "Redis black hole (one instance)"
  | "Redis delay (all instances)"
  | "client partition"
  | "client black hole"
  | "client delay"
  | "client reset";

export interface ChaosResult {
  verdict: Verdict;
  faults: FaultCounts;
  instances: number;
  users: number;
  seconds: number;
  acksPerSecond: number;
  /** The longest stretch without any ack while Redis was paused (the bar: ≤ 1 s). */
  maxAckSilenceInRedisPauseMs: number;
  /** The longest stretch without any ack over the whole run (instance faults included). */
  maxAckSilenceMs: number;
  /** Per kind of fault, the longest stretch without any ack while it was in force. */
  silenceByFault: Partial<Record<FaultKind, number>>;
  /** Every client's reconnections and the `gap` frames they were sent. */
  reconnects: number;
  gapFrames: number;
  timeline: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  port: number;
  env: Record<string, string>;
  server: ServerProcess;
  redisProxy: FaultProxy;
  clientProxy: FaultProxy;
}

export async function runChaos(options: ChaosOptions = {}): Promise<ChaosResult> {
  const short = options.short ?? false;
  const instanceCount = options.instances ?? (short ? 2 : 3);
  const userCount = options.users ?? (short ? 6 : 12);
  const target = options.messages ?? (short ? 1_500 : 10_000);
  const log = options.log ?? (() => {});
  const started = performance.now();
  const timeline: string[] = [];
  const mark = (what: string) => {
    const line = `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`;
    timeline.push(line);
    log(line);
  };

  const redis: TestRedis = await startRedis();
  const dataDir = await Deno.makeTempDir({ prefix: "parley-chaos-" });
  const prefix = `chaos${crypto.randomUUID().slice(0, 8)}:`;
  const nodes: Node[] = [];
  const clients: ChaosClient[] = [];
  try {
    for (let i = 0; i < instanceCount; i++) {
      const port = freePort();
      const redisProxy = FaultProxy.start({ port: redis.port });
      const clientProxy = FaultProxy.start({ port });
      const env = {
        PORT: String(port),
        DATA_DIR: dataDir,
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        REDIS_PREFIX: prefix,
        // The limits are not what this run is about.
        RATE_MESSAGES_PER_MINUTE: "1000000",
        WS_FRAMES_PER_SECOND: "1000",
        WS_FRAMES_BURST: "2000",
      };
      nodes.push({ port, env, server: await spawnServer(env), redisProxy, clientProxy });
    }
    const direct = `http://127.0.0.1:${nodes[0].port}`;
    const endpoints = nodes.map((n) => `http://127.0.0.1:${n.clientProxy.port}`);

    // Users, and groups of about a third of them each; the last user is in none (every event it
    // receives is a leak), and each group lacks some users who are elsewhere.
    const users = [];
    for (let u = 0; u < userCount; u++) users.push(await register(direct, `chaos${u}`));
    const groupCount = Math.max(2, Math.floor(userCount / 3));
    const members = new Map<string, Set<string>>();
    const memberOf: string[][] = users.map(() => []);
    for (let g = 0; g < groupCount; g++) {
      const inGroup = users.slice(0, -1).filter((_, u) =>
        u % groupCount === g || (u + 1) % groupCount === g
      );
      const id = await createGroup(
        direct,
        inGroup[0].token,
        `chaos ${g}`,
        inGroup.slice(1).map((u) => u.id),
      );
      members.set(id, new Set(inGroup.map((u) => u.id)));
      for (const m of inGroup) memberOf[users.indexOf(m)].push(id);
    }
    for (const [u, user] of users.entries()) {
      const client = new ChaosClient(user.id, user.token, endpoints, u);
      await client.start();
      clients.push(client);
    }
    mark(`${instanceCount} instances, ${userCount} users, ${groupCount} groups: sending`);

    // Senders: one send at a time per user (so each one's order can be checked), paced so the
    // target is reached about when the fault schedule ends.
    const plan = schedule(short, instanceCount);
    const planSeconds = plan.reduce((s, step) => s + step.seconds, 0);
    const senders = users.slice(0, -1).map((_, u) => u);
    const interval = (senders.length * planSeconds * 1000) / target;
    let sending = true;
    let sent = 0;
    const sendersDone = Promise.all(senders.map(async (u) => {
      for (let n = 0; sending || sent < target; n++) {
        const t = performance.now();
        const conversation = memberOf[u][n % memberOf[u].length];
        await clients[u].send(conversation, `u${u}-${n}`, `chaos message ${n} from ${u}`);
        sent++;
        const rest = interval - (performance.now() - t);
        if (rest > 0) await sleep(rest * (0.5 + Math.random()));
      }
    }));

    // The faults, one after another.
    const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
    const redisPauses: Array<[number, number]> = [];
    const ctx: FaultContext = { nodes, redis, redisPauses, mark };
    await sleep(short ? 1_000 : 2_000);
    const windows: Array<{ kind: FaultKind; from: number; to: number }> = [];
    for (const step of plan) {
      const from = performance.now();
      await step.run(ctx);
      windows.push({ kind: step.kind, from, to: performance.now() });
      faults[step.kind]++;
      await sleep(short ? 800 : 1_500);
    }
    sending = false;
    await sendersDone;
    mark(`${sent} messages acknowledged: every fault healed, waiting for every client to catch up`);

    // Everyone must now hold everything the store holds for their conversations.
    const stored = new Map<string, StoredEvent[]>();
    for (const [id, inGroup] of members) {
      stored.set(id, await storedEvents(direct, tokenOf(users, inGroup), id));
    }
    for (const [id, events] of stored) {
      const head = events.at(-1)?.seq ?? 0;
      for (const [u, client] of clients.entries()) {
        if (!members.get(id)!.has(users[u].id)) continue;
        if (!await client.reached(id, head, 30_000)) {
          mark(`user ${u} did not reach seq ${head} of ${id}`);
        }
      }
    }
    for (const c of clients) await c.stop();
    mark("clients stopped: checking");

    const verdict = check({ members, stored, clients });
    const acks = clients.flatMap((c) => c.acks.map((a) => a.at)).sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    const result: ChaosResult = {
      verdict,
      faults,
      instances: instanceCount,
      users: userCount,
      seconds: Math.round(seconds),
      acksPerSecond: Math.round(acks.length / ((acks.at(-1)! - acks[0]) / 1000)),
      maxAckSilenceInRedisPauseMs: Math.round(
        Math.max(0, ...redisPauses.map(([from, to]) => longestSilence(acks, from, to))),
      ),
      maxAckSilenceMs: Math.round(longestSilence(acks, acks[0], acks.at(-1)!)),
      silenceByFault: Object.fromEntries(
        FAULT_KINDS.filter((k) => faults[k] > 0).map((k) => [
          k,
          Math.round(
            Math.max(
              ...windows.filter((w) => w.kind === k).map((w) => longestSilence(acks, w.from, w.to)),
            ),
          ),
        ]),
      ) as Partial<Record<FaultKind, number>>,
      reconnects: clients.reduce((n, c) => n + c.connections.length - 1, 0),
      gapFrames: clients.reduce((n, c) => n + c.gapFrames, 0),
      timeline,
    };
    return result;
  } finally {
    for (const c of clients) await c.stop().catch(() => {});
    for (const n of nodes) {
      n.server.kill("SIGCONT");
      n.server.kill("SIGKILL");
      await n.server.exited;
      n.redisProxy.close();
      n.clientProxy.close();
    }
    await redis.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** The token of some member of a conversation (to read its events). */
function tokenOf(users: Array<{ id: string; token: string }>, members: Set<string>): string {
  return users.find((u) => members.has(u.id))!.token;
}

/** The longest time between acks (or the window's edges) within `from..to`. */
export function longestSilence(acks: number[], from: number, to: number): number {
  let last = from;
  let longest = 0;
  for (const at of acks) {
    if (at < from) continue;
    if (at > to) break;
    longest = Math.max(longest, at - last);
    last = at;
  }
  return Math.max(longest, to - last);
}

interface FaultContext {
  nodes: Node[];
  redis: TestRedis;
  redisPauses: Array<[number, number]>;
  mark: (what: string) => void;
}

interface Step {
  kind: FaultKind;
  /** About how long the step and the pause after it take (to pace the senders). */
  seconds: number;
  run(ctx: FaultContext): Promise<void>;
}

const FAULT_KINDS: FaultKind[] = [
  "instance SIGKILL",
  "instance SIGSTOP",
  "Redis restart",
  "Redis SIGSTOP",
  "Redis partition (one instance)",
  "Redis black hole (one instance)",
  "Redis delay (all instances)",
  "client partition",
  "client black hole",
  "client delay",
  "client reset",
];

function killInstance(i: number): Step {
  return {
    kind: "instance SIGKILL",
    seconds: 4,
    async run({ nodes, mark }) {
      const node = nodes[i];
      mark(`SIGKILL instance ${i}`);
      node.server.kill("SIGKILL");
      await node.server.exited;
      await sleep(1_000);
      node.server = await spawnServer(node.env);
      mark(`instance ${i} restarted`);
    },
  };
}

function pauseInstance(i: number, ms: number): Step {
  return {
    kind: "instance SIGSTOP",
    seconds: ms / 1000 + 1.5,
    async run({ nodes, mark }) {
      mark(`SIGSTOP instance ${i} for ${ms} ms`);
      nodes[i].server.kill("SIGSTOP");
      await sleep(ms);
      nodes[i].server.kill("SIGCONT");
      mark(`SIGCONT instance ${i}`);
    },
  };
}

function restartRedis(): Step {
  return {
    kind: "Redis restart",
    seconds: 4,
    async run({ redis, mark }) {
      mark("Redis stopped");
      await redis.stop();
      await sleep(1_500);
      await redis.start();
      mark("Redis started (empty)");
    },
  };
}

function pauseRedis(ms: number): Step {
  return {
    kind: "Redis SIGSTOP",
    seconds: ms / 1000 + 1.5,
    async run({ redis, redisPauses, mark }) {
      mark(`SIGSTOP Redis for ${ms} ms`);
      const from = performance.now();
      redis.pause();
      await sleep(ms);
      redis.resume();
      redisPauses.push([from, performance.now()]);
      mark("SIGCONT Redis");
    },
  };
}

function proxyFault(
  kind: FaultKind,
  which: "redisProxy" | "clientProxy",
  nodesOf: (n: Node[]) => Node[],
  apply: (p: FaultProxy) => void,
  ms: number,
  what: string,
): Step {
  return {
    kind,
    seconds: ms / 1000 + 1.5,
    async run({ nodes, mark }) {
      const chosen = nodesOf(nodes);
      mark(`${what} for ${ms} ms`);
      for (const n of chosen) apply(n[which]);
      await sleep(ms);
      for (const n of chosen) n[which].heal();
      mark(`healed: ${what}`);
    },
  };
}

/** The fault schedule: the full one plays every fault the issue asks for, and more. */
function schedule(short: boolean, n: number): Step[] {
  const one = (i: number) => (nodes: Node[]) => [nodes[i % n]];
  const all = (nodes: Node[]) => nodes;
  const partitionRedis = (i: number) =>
    proxyFault(
      "Redis partition (one instance)",
      "redisProxy",
      one(i),
      (p) => p.partition(),
      3_000,
      `instance ${i % n} cut off from Redis`,
    );
  const blackholeRedis = (i: number) =>
    proxyFault(
      "Redis black hole (one instance)",
      "redisProxy",
      one(i),
      (p) => p.blackhole(),
      2_500,
      `instance ${i % n}'s Redis traffic black-holed`,
    );
  const delayRedis = proxyFault(
    "Redis delay (all instances)",
    "redisProxy",
    all,
    (p) => p.delay(150),
    3_000,
    "150 ms added to all Redis traffic",
  );
  const partitionClients = (i: number) =>
    proxyFault(
      "client partition",
      "clientProxy",
      one(i),
      (p) => p.partition(),
      3_000,
      `clients cut off from instance ${i % n}`,
    );
  const blackholeClients = (i: number) =>
    proxyFault(
      "client black hole",
      "clientProxy",
      one(i),
      (p) => p.blackhole(),
      3_000,
      `clients of instance ${i % n} black-holed`,
    );
  const delayClients = (i: number) =>
    proxyFault(
      "client delay",
      "clientProxy",
      one(i),
      (p) => p.delay(200),
      3_000,
      `200 ms added between clients and instance ${i % n}`,
    );
  const resetClients = (i: number): Step => ({
    kind: "client reset",
    seconds: 1.5,
    run: ({ nodes, mark }) => {
      mark(`every client connection of instance ${i % n} reset`);
      nodes[i % n].clientProxy.cut();
      return Promise.resolve();
    },
  });
  if (short) {
    return [
      killInstance(0),
      pauseRedis(2_000),
      partitionRedis(1),
      restartRedis(),
      resetClients(1),
    ];
  }
  return [
    killInstance(0),
    pauseRedis(3_000),
    partitionClients(1),
    killInstance(1),
    restartRedis(),
    blackholeRedis(2),
    killInstance(2),
    pauseInstance(0, 2_000),
    delayClients(1),
    partitionRedis(0),
    killInstance(0),
    pauseRedis(3_000),
    blackholeClients(2),
    delayRedis,
    killInstance(1),
    restartRedis(),
    resetClients(0),
    killInstance(2),
  ];
}

async function register(base: string, name: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${base}/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      username: `${name}${crypto.randomUUID().slice(0, 6)}`,
      password: "correct horse battery",
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.user.id, token: body.accessToken };
}

async function createGroup(
  base: string,
  token: string,
  name: string,
  memberIds: string[],
): Promise<string> {
  const res = await fetch(`${base}/v1/conversations`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ type: "group", name, memberIds }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`create group: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** Every durable event of a conversation, from the store (an instance, not through a proxy). */
async function storedEvents(base: string, token: string, id: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let after = 0;;) {
    const res = await fetch(`${base}/v1/conversations/${id}/events?after=${after}&limit=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(body)}`);
    for (const e of body.events) {
      out.push({
        seq: e.seq,
        event: e.event,
        messageId: e.data?.id,
        clientMsgId: e.data?.clientMsgId,
      });
    }
    if (!body.hasMore) return out;
    after = body.events.at(-1).seq;
  }
}

function formatReport(r: ChaosResult): string {
  const v = r.verdict;
  const faults = Object.entries(r.faults).filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ×${n}`).join(", ");
  return [
    `| messages acknowledged | ${v.acknowledged} (${r.acksPerSecond}/s over ${r.seconds} s, ${r.instances} instances, ${r.users} users) |`,
    `| faults played | ${faults} |`,
    `| lost / duplicated / reordered / gaps / leaked | ${v.lost} / ${v.duplicated} / ${v.reordered} / ${v.gaps} / ${v.leaked} |`,
    `| refused / never acknowledged | ${v.refused} / ${v.unacknowledged} |`,
    `| events delivered to sockets | ${v.delivered} (${r.reconnects} reconnections, ${r.gapFrames} gap frames) |`,
    `| longest time without an ack while Redis was paused | ${r.maxAckSilenceInRedisPauseMs} ms (bar: 1,000 ms) |`,
    `| longest time without an ack, whole run | ${r.maxAckSilenceMs} ms |`,
  ].join("\n");
}

function formatSilences(r: ChaosResult): string {
  return [
    "| fault | longest time without any ack while it lasted |",
    "|---|---|",
    ...Object.entries(r.silenceByFault).map(([k, ms]) => `| ${k} | ${ms} ms |`),
  ].join("\n");
}

if (import.meta.main) {
  const short = Deno.args.includes("--short");
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const result = await runChaos({
    short,
    messages: arg("--messages"),
    instances: arg("--instances"),
    log: (line) => console.log(line),
  });
  const table = `| chaos run | result |\n|---|---|\n${formatReport(result)}`;
  console.log(`\n${table}\n\n${formatSilences(result)}\n`);
  for (const f of result.verdict.findings) console.log(`finding: ${f}`);
  if (!short) {
    const report = [
      "# Chaos run",
      "",
      `\`deno task chaos\`, ${new Date().toISOString().slice(0, 10)}. ${
        result.verdict.findings.length
          ? "Findings below."
          : "Nothing was lost, duplicated, reordered, skipped or leaked."
      }`,
      "",
      table,
      "",
      "## Acks while each fault lasted",
      "",
      formatSilences(result),
      "",
      "## Timeline",
      "",
      "```",
      ...result.timeline,
      "```",
      ...(result.verdict.findings.length
        ? ["", "## Findings", "", ...result.verdict.findings.map((f) => `- ${f}`)]
        : []),
      "",
    ].join("\n");
    await Deno.writeTextFile(new URL("../results/chaos.md", import.meta.url), report);
    const readme = new URL("../../README.md", import.meta.url);
    const text = await Deno.readTextFile(readme);
    const start = "<!-- chaos:start -->";
    const end = "<!-- chaos:end -->";
    if (text.includes(start)) {
      await Deno.writeTextFile(
        readme,
        text.slice(0, text.indexOf(start) + start.length) + `\n\n${table}\n\n` +
          text.slice(text.indexOf(end)),
      );
      // The README is formatted by deno fmt (checked in CI): keep it so.
      await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", readme.pathname] }).output();
    }
  }
  const ok = result.verdict.lost + result.verdict.duplicated + result.verdict.reordered +
          result.verdict.gaps + result.verdict.leaked + result.verdict.refused +
          result.verdict.unacknowledged === 0 && result.maxAckSilenceInRedisPauseMs <= 1_000;
  Deno.exit(ok ? 0 : 1);
}
