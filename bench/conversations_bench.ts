// Conversation list latency for a user in many conversations: the first page of
// `GET /v1/conversations?limit=50` and the cursor pages after it, over HTTP on an in-process server.
//   deno run -A bench/conversations_bench.ts [conversations] [samples]
import { percentile, pool, round } from "./_lib.ts";
import { Client, registerUser, startServer, type TestUser } from "../tests/support/server.ts";

/** What {@link runConversationListBench} measured. Latencies in milliseconds, per page. */
export interface ConversationListBenchResult {
  /** Conversations the measured user is in. */
  conversations: number;
  /** `limit` of every measured page. */
  pageSize: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const PAGE_SIZE = 50;
/** Pages per sample: the first page and the cursor pages after it. */
const PAGES = 4;
const USERS = 20;
/** Requests in flight while building the data set. */
const SETUP_CONCURRENCY = 16;

async function expectStatus(res: Promise<{ status: number; body: unknown }>, status: number) {
  const r = await res;
  if (r.status !== status) {
    throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r;
}

/**
 * One user in `conversations` groups (2–3 members each, a message from another member in every
 * third, one from the user in every seventh), then `samples` walks over the first {@link PAGES}
 * pages of their conversation list. Every page request is one sample of the percentiles.
 *
 * @example
 * const { p99Ms } = await runConversationListBench({ conversations: 200, samples: 10 });
 */
export async function runConversationListBench(
  options: { conversations?: number; samples?: number } = {},
): Promise<ConversationListBenchResult> {
  const conversations = options.conversations ?? 1000;
  const samples = options.samples ?? 50;
  const s = await startServer({ LOG_LEVEL: "warn" });
  try {
    const users: TestUser[] = [];
    for (let i = 0; i < USERS; i += 5) {
      users.push(...await Promise.all(Array.from({ length: 5 }, () => registerUser(s.url))));
    }
    const [me, ...others] = users;
    await pool(conversations, SETUP_CONCURRENCY, async (i) => {
      const members = [others[i % others.length]];
      if (i % 2 === 0) members.push(others[(i * 7 + 3) % others.length]);
      const group = await expectStatus(
        me.client.post("/v1/conversations", {
          type: "group",
          name: `Group ${i}`,
          memberIds: [...new Set(members.map((m) => m.id))],
        }),
        201,
      );
      const id = (group.body as { id: string }).id;
      const send = (from: TestUser) =>
        expectStatus(
          from.client.post(`/v1/conversations/${id}/messages`, {
            clientMsgId: `bench-${i}-${from.id}`,
            text: `hello in group ${i}`,
          }),
          201,
        );
      if (i % 3 === 0) await send(members[0]);
      if (i % 7 === 0) await send(me);
    });

    const list = me.client;
    for (let i = 0; i < 3; i++) await walkPages(list, null); // warm up routes and statements
    const timings: number[] = [];
    for (let i = 0; i < samples; i++) await walkPages(list, timings);
    return {
      conversations: await countAll(list),
      pageSize: PAGE_SIZE,
      p50Ms: round(percentile(timings, 50), 2),
      p99Ms: round(percentile(timings, 99), 2),
      maxMs: round(Math.max(...timings), 2),
    };
  } finally {
    await s.close();
  }
}

/** Fetches the first {@link PAGES} list pages, pushing each request's latency onto `record`. */
async function walkPages(client: Client, record: number[] | null): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < PAGES; page++) {
    const path = `/v1/conversations?limit=${PAGE_SIZE}` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
    const started = performance.now();
    const res = await client.get(path);
    record?.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`list failed: ${res.status}`);
    cursor = res.body.nextCursor;
    if (!cursor) return;
  }
}

/** How many conversations the client's user is in, by walking the whole list. */
async function countAll(client: Client): Promise<number> {
  let cursor: string | undefined;
  let count = 0;
  do {
    const res = await client.get(
      `/v1/conversations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    count += res.body.conversations.length;
    cursor = res.body.nextCursor;
  } while (cursor);
  return count;
}

if (import.meta.main) {
  const conversations = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  const samples = Deno.args[1] ? Number(Deno.args[1]) : undefined;
  console.log(
    JSON.stringify(await runConversationListBench({ conversations, samples }), null, 2),
  );
}
