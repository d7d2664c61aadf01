// The two hot reads with and without the read cache: the newest page of a conversation's history
// (`GET /v1/conversations/:id/messages`, 50 messages) and the first page of a user's conversation list
// (`GET /v1/conversations`, 50 rows), over HTTP on an in-process server, for each cache mode (off,
// in-process, Redis) on the same data set. Two workloads:
//   steady — the same reads repeated, nothing changes (what a cache is for);
//   churn  — before every read another member sends to the conversation, so every cached read is
//            invalidated and rebuilt (what caching costs when it cannot help).
// The store is SQLite unless MONGODB_URI is set (then MongoDB, database `parley_cache_bench`).
//   deno run -A bench/cache_bench.ts [samples] [conversations]
import { percentile, pool, round } from "./_lib.ts";
import { startRedis } from "../tests/support/redis.ts";
import { Client, registerUser, startServer, type TestUser } from "../tests/support/server.ts";
import { BENCH_ENV } from "./_lib.ts";

const PAGE = 50;
const BIG_HISTORY = 300;

interface World {
  viewer: TestUser;
  others: TestUser[];
  big: string;
}

async function must(res: Promise<{ status: number; body: any }>): Promise<any> {
  const r = await res;
  if (r.status >= 300) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The viewer in `conversations` groups; the big one has a long history with some reactions. */
async function build(url: string, conversations: number): Promise<World> {
  const viewer = await registerUser(url);
  const others = await Promise.all(Array.from({ length: 8 }, () => registerUser(url)));
  const ids: string[] = [];
  await pool(conversations, 16, async (i) => {
    const members = [others[i % others.length], others[(i + 3) % others.length]];
    const group = await must(viewer.client.post("/v1/conversations", {
      type: "group",
      name: `Group ${i}`,
      memberIds: members.map((m) => m.id),
    }));
    ids[i] = group.id;
    await must(members[0].client.post(`/v1/conversations/${group.id}/messages`, {
      clientMsgId: crypto.randomUUID(),
      text: `hello in group ${i}`,
    }));
  });
  const big = ids[0];
  const [a, b] = [others[0], others[3]];
  await pool(BIG_HISTORY, 16, async (i) => {
    const from = i % 3 === 0 ? viewer : i % 3 === 1 ? a : b;
    const sent = await must(from.client.post(`/v1/conversations/${big}/messages`, {
      clientMsgId: crypto.randomUUID(),
      text: `message ${i} with a little text in it 👋🏽`,
    }));
    if (i % 5 === 0) {
      await must(
        a.client.put(
          `/v1/conversations/${big}/messages/${sent.message.id}/reactions/${
            encodeURIComponent("👍")
          }`,
        ),
      );
    }
  });
  return { viewer, others, big };
}

/** p50/p99 (ms) of each read in each workload against the server at `url`. */
async function measure(url: string, w: World, samples: number): Promise<Record<string, number>> {
  const viewer = new Client(url, w.viewer.accessToken);
  const sender = new Client(url, w.others[0].accessToken);
  const reads = {
    history: `/v1/conversations/${w.big}/messages?limit=${PAGE}`,
    list: `/v1/conversations?limit=${PAGE}`,
  };
  const out: Record<string, number> = {};
  for (const workload of ["steady", "churn"] as const) {
    for (const [name, path] of Object.entries(reads)) {
      for (let i = 0; i < 20; i++) await must(viewer.get(path));
      const timings: number[] = [];
      for (let i = 0; i < samples; i++) {
        if (workload === "churn") {
          await must(sender.post(`/v1/conversations/${w.big}/messages`, {
            clientMsgId: crypto.randomUUID(),
            text: `churn ${i}`,
          }));
        }
        const started = performance.now();
        await must(viewer.get(path));
        timings.push(performance.now() - started);
      }
      out[`${name}_${workload}_p50_ms`] = round(percentile(timings, 50), 3);
      out[`${name}_${workload}_p99_ms`] = round(percentile(timings, 99), 3);
    }
  }
  return out;
}

/**
 * Builds one data set, then measures both reads with the cache off, in-process and in Redis.
 * Keys are `<read>_<workload>_<p50|p99>_ms_<mode>`, plus the data set's shape.
 *
 * @example
 * const r = await runCacheBench({ samples: 100 });
 * console.log(r.history_steady_p50_ms_off, r.history_steady_p50_ms_redis);
 */
export async function runCacheBench(
  options: { samples?: number; conversations?: number } = {},
): Promise<Record<string, number>> {
  const samples = options.samples ?? 300;
  const conversations = options.conversations ?? 300;
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-cache-" });
  const redis = await startRedis();
  const mongo = Deno.env.get("MONGODB_URI");
  const base: Record<string, string> = {
    ...BENCH_ENV,
    LOG_LEVEL: "warn",
    DATA_DIR: dataDir,
    ...(mongo ? { MONGODB_URI: mongo, MONGODB_DB: "parley_cache_bench" } : {}),
  };
  const modes: Array<[string, Record<string, string>]> = [
    ["off", { READ_CACHE: "false" }],
    ["memory", {}],
    ["redis", { REDIS_URL: redis.url, REDIS_PREFIX: `bench${crypto.randomUUID()}:` }],
  ];
  try {
    const setup = await startServer({ ...base, READ_CACHE: "false" });
    let world: World;
    try {
      world = await build(setup.url, conversations);
    } finally {
      await setup.close();
    }
    const out: Record<string, number> = {
      conversations,
      historyMessages: BIG_HISTORY + 1,
      pageSize: PAGE,
      samples,
    };
    for (const [mode, env] of modes) {
      const s = await startServer({ ...base, ...env });
      try {
        for (const [k, v] of Object.entries(await measure(s.url, world, samples))) {
          out[`${k}_${mode}`] = v;
        }
      } finally {
        await s.close();
      }
    }
    return out;
  } finally {
    await redis.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  const samples = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  const conversations = Deno.args[1] ? Number(Deno.args[1]) : undefined;
  console.log(JSON.stringify(await runCacheBench({ samples, conversations }), null, 2));
}
