// Thread read latency in a busy group: pages of one long thread (newest, then back with `before`),
// the conversation's thread list, the caller's followed threads, and the main history page, whose
// newest messages sit among thousands of thread-only replies. Over HTTP on an in-process server.
//   deno run -A bench/threads_bench.ts [replies] [samples]
import { percentile, pool, round } from "./_lib.ts";
import { type Client, registerUser, startServer } from "../tests/support/server.ts";

/** Latency of one kind of read, in milliseconds per request. */
export interface ReadLatency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What {@link runThreadBench} measured. */
export interface ThreadBenchResult {
  /** Replies in the long thread. */
  replies: number;
  /** Threads in the conversation. */
  threads: number;
  pageSize: number;
  threadPage: ReadLatency;
  threadList: ReadLatency;
  followedThreads: ReadLatency;
  mainHistory: ReadLatency;
}

const PAGE_SIZE = 50;
/** Pages of the long thread walked back per sample. */
const PAGES = 4;
const SETUP_CONCURRENCY = 16;

function latency(timings: number[]): ReadLatency {
  return {
    p50Ms: round(percentile(timings, 50), 2),
    p99Ms: round(percentile(timings, 99), 2),
    maxMs: round(Math.max(...timings), 2),
  };
}

async function timed(client: Client, path: string, record: number[] | null): Promise<any> {
  const started = performance.now();
  const res = await client.get(path);
  record?.push(performance.now() - started);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A group of four with `threads` roots, one of which gets `replies` replies (every tenth also in
 * the conversation) and the others a few each, all from the other members; then `samples` rounds of
 * reads by the root's author.
 *
 * @example
 * const { threadPage } = await runThreadBench({ replies: 500, samples: 10 });
 */
export async function runThreadBench(
  options: { replies?: number; threads?: number; samples?: number } = {},
): Promise<ThreadBenchResult> {
  const replies = options.replies ?? 2000;
  const threads = options.threads ?? 200;
  const samples = options.samples ?? 50;
  const s = await startServer({ LOG_LEVEL: "warn" });
  try {
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(s.url)));
    const [me, ...others] = users;
    const created = await me.client.post("/v1/conversations", {
      type: "group",
      name: "Busy",
      memberIds: others.map((u) => u.id),
    });
    const conv = created.body.id as string;
    const send = async (from: typeof me, body: Record<string, unknown>) => {
      const res = await from.client.post(`/v1/conversations/${conv}/messages`, {
        clientMsgId: crypto.randomUUID(),
        ...body,
      });
      if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.message;
    };
    const roots: string[] = [];
    for (let i = 0; i < threads; i++) roots.push((await send(me, { text: `topic ${i}` })).id);
    const long = roots[0];
    await pool(replies, SETUP_CONCURRENCY, async (i) => {
      await send(others[i % others.length], {
        text: `reply ${i}`,
        threadId: long,
        ...(i % 10 === 0 ? { alsoInConversation: true } : {}),
      });
    });
    await pool((threads - 1) * 3, SETUP_CONCURRENCY, async (i) => {
      await send(others[i % others.length], {
        text: `short reply ${i}`,
        threadId: roots[1 + Math.floor(i / 3)],
      });
    });

    const thread = `/v1/conversations/${conv}/threads/${long}/messages?limit=${PAGE_SIZE}`;
    const walk = async (record: number[] | null) => {
      let before: number | undefined;
      for (let page = 0; page < PAGES; page++) {
        const body = await timed(
          me.client,
          before === undefined ? thread : `${thread}&before=${before}`,
          record,
        );
        if (!body.hasMore) return;
        before = body.messages[0].seq;
      }
    };
    const lists = {
      threadList: `/v1/conversations/${conv}/threads?limit=${PAGE_SIZE}`,
      followedThreads: `/v1/users/me/threads?limit=${PAGE_SIZE}`,
      mainHistory: `/v1/conversations/${conv}/messages?limit=${PAGE_SIZE}`,
    };
    for (let i = 0; i < 3; i++) {
      await walk(null);
      for (const path of Object.values(lists)) await timed(me.client, path, null);
    }
    const pages: number[] = [];
    const timings = { threadList: [] as number[], followedThreads: [], mainHistory: [] };
    for (let i = 0; i < samples; i++) {
      await walk(pages);
      for (const [name, path] of Object.entries(lists)) {
        await timed(me.client, path, timings[name as keyof typeof lists]);
      }
    }
    return {
      replies,
      threads,
      pageSize: PAGE_SIZE,
      threadPage: latency(pages),
      threadList: latency(timings.threadList),
      followedThreads: latency(timings.followedThreads),
      mainHistory: latency(timings.mainHistory),
    };
  } finally {
    await s.close();
  }
}

if (import.meta.main) {
  const replies = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  const samples = Deno.args[1] ? Number(Deno.args[1]) : undefined;
  console.log(JSON.stringify(await runThreadBench({ replies, samples }), null, 2));
}
