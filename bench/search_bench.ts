// Message search at scale: generates N messages (default 1,000,000) in N/100 conversations through
// the store (texts sealed as the server seals them, words drawn from a Zipf vocabulary), indexes
// them with the indexer's catch-up (what a server does after downtime, or `deno task
// search:reindex`), then starts a server on that data and times searches over HTTP: scoped to one
// conversation, and global for a user in 200 conversations; words common, middling and rare, two
// words, a prefix. Reported as p50/p99 per kind and overall.
//   deno run -A bench/search_bench.ts [messages]
import { loadConfig } from "../src/config.ts";
import { DataKeys, Keyring, messageAad } from "../src/crypto/envelope.ts";
import { loadKeys } from "../src/crypto/keys.ts";
import { PasswordHasher } from "../src/crypto/passwords.ts";
import { DEFAULT_SETTINGS } from "../src/domain/types.ts";
import { member } from "../tests/store/_fixtures.ts";
import { newId } from "../src/ids.ts";
import type { Change } from "../src/store/store.ts";
import { openSqliteStore } from "../src/store/sqlite/mod.ts";
import { reindex } from "../tools/search_reindex.ts";
import { spawnServer } from "../tests/support/process.ts";
import { Client } from "../tests/support/server.ts";
import { BENCH_ENV, percentile, round } from "./_lib.ts";

const PER_CONVERSATION = 100;
const PROBE_CONVERSATIONS = 200;
const VOCABULARY = 30_000;
const PASSWORD = "benchmark password";

export interface QueryFigures {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export interface SearchBenchResult {
  messages: number;
  conversations: number;
  generateSeconds: number;
  indexSeconds: number;
  indexedPerSecond: number;
  conversationScoped: QueryFigures;
  global: QueryFigures;
  /** Per query kind, global / scoped p99 (ms). */
  byKind: Record<string, { scopedP99Ms: number; globalP99Ms: number }>;
}

/** A small deterministic generator, so every run searches the same corpus. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pseudo-words of two to four syllables, each distinct. */
export function vocabulary(random: () => number): string[] {
  const onsets = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "br",
    "st",
    "tr",
  ];
  const vowels = ["a", "e", "i", "o", "u", "ai", "ou"];
  const words = new Set<string>();
  while (words.size < VOCABULARY) {
    let w = "";
    const n = 2 + Math.floor(random() * 3);
    for (let i = 0; i < n; i++) {
      w += onsets[Math.floor(random() * onsets.length)] +
        vowels[Math.floor(random() * vowels.length)];
    }
    words.add(w);
  }
  return [...words];
}

/** Zipf(1) ranks: cumulative weights, sampled by binary search. */
function zipf(n: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cumulative[i] = total += 1 / (i + 1);
  return () => {
    const x = random() * total;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function generate(dir: string, messages: number, random: () => number) {
  const config = loadConfig({ DATA_DIR: dir });
  const keys = await loadKeys(config);
  const store = openSqliteStore({ path: `${dir}/parley.db`, synchronous: "NORMAL" });
  const dataKeys = new DataKeys(
    store,
    new Keyring(keys.encryption.keys, keys.encryption.activeKeyId),
  );
  const words = vocabulary(random);
  const rank = zipf(words.length, random);
  const conversations = Math.max(1, Math.round(messages / PER_CONVERSATION));
  const hasher = new PasswordHasher(config.auth.argon2, 1);
  const probeHash = await hasher.hash(PASSWORD);
  hasher.close();
  const users: string[] = [];
  const userCount = Math.max(50, Math.round(conversations / 5));
  const now = Date.now();
  for (let i = 0; i < userCount; i++) {
    const id = newId();
    const created = await store.accounts.createUser({
      id,
      username: i === 0 ? "probe" : `user${i}`,
      displayName: i === 0 ? "Probe" : `User ${i}`,
      passwordHash: i === 0 ? probeHash : "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
      role: "user",
      createdAt: new Date(now - 90 * 86_400_000).toISOString(),
    });
    if (created.status !== "created") throw new Error("user");
    users.push(id);
  }
  const probe = users[0];
  const probeConversations: string[] = [];
  const span = 60 * 86_400_000;
  let sent = 0;
  for (let c = 0; c < conversations; c++) {
    const mine = c % Math.ceil(conversations / PROBE_CONVERSATIONS) === 0 &&
      probeConversations.length < PROBE_CONVERSATIONS;
    const owner = mine ? probe : users[1 + Math.floor(random() * (users.length - 1))];
    const others = new Set<string>();
    while (others.size < 2) {
      const u = users[1 + Math.floor(random() * (users.length - 1))];
      if (u !== owner) others.add(u);
    }
    const members = [owner, ...others];
    const id = newId(now - span - 1000);
    const at = new Date(now - span - 1000).toISOString();
    await store.conversations.createConversation({
      conversation: {
        id,
        type: "group",
        name: `Group ${c}`,
        description: null,
        avatarMediaId: null,
        settings: DEFAULT_SETTINGS,
        createdBy: owner,
        createdAt: at,
        updatedAt: at,
        lastSeq: 1,
        memberCount: members.length,
        retentionDays: null,
        deletedAt: null,
      },
      members: members.map((u, i) => member(id, u, i === 0 ? "owner" : "member", at)),
      event: { event: "conversation.created", actorId: owner, data: {} },
      systemMessageId: newId(now - span - 1000),
      system: { action: "conversation.created", actorId: owner, userIds: members },
    });
    if (mine) probeConversations.push(id);
    const n = Math.min(PER_CONVERSATION, messages - sent);
    const changes: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const time = now - span + Math.floor(((c * PER_CONVERSATION + i) / messages) * span);
      const messageId = newId(time);
      const sender = members[i % members.length];
      const length = 6 + Math.floor(random() * 14);
      const text = Array.from({ length }, () => words[rank()]).join(" ");
      const body = await dataKeys.sealText(sender, text, messageAad(id, messageId));
      const createdAt = new Date(time).toISOString();
      const change: Change = {
        conversationId: id,
        event: "message.created",
        actorId: sender,
        messageId,
        at: createdAt,
        idempotency: { senderId: sender, clientMsgId: messageId },
        mutations: [{
          op: "insertMessage",
          message: {
            id: messageId,
            conversationId: id,
            senderId: sender,
            clientMsgId: messageId,
            kind: "text",
            body,
            mediaIds: [],
            replyTo: null,
            mentions: [],
            system: null,
            editedAt: null,
            deletedAt: null,
            createdAt,
          },
        }],
      };
      changes.push(store.log.commit(change));
    }
    await Promise.all(changes);
    sent += n;
  }
  await store.close();
  return { words, probeConversations, conversations };
}

async function timed(client: Client, path: string): Promise<number> {
  const started = performance.now();
  const res = await client.get(path);
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`search: ${res.status} ${JSON.stringify(res.body)}`);
  return ms;
}

export async function runSearchBench(
  options: { messages?: number; samples?: number } = {},
): Promise<SearchBenchResult> {
  const messages = options.messages ?? 1_000_000;
  const samples = options.samples ?? 200;
  const dir = await Deno.makeTempDir({ prefix: "parley-bench-search-" });
  const random = rng(42);
  try {
    let started = performance.now();
    const { words, probeConversations, conversations } = await generate(dir, messages, random);
    const generateSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await reindex({ DATA_DIR: dir, LOG_LEVEL: "warn" });
    const indexSeconds = (performance.now() - started) / 1000;

    await using server = await spawnServer({ ...BENCH_ENV, DATA_DIR: dir, LOG_LEVEL: "info" });
    const login = await new Client(server.url).post("/v1/auth/login", {
      username: "probe",
      password: PASSWORD,
    });
    if (login.status !== 200) throw new Error(`login: ${login.status}`);
    const client = new Client(server.url, login.body.accessToken);
    const kinds: Record<string, () => string> = {
      common: () => words[Math.floor(random() * 10)],
      middling: () => words[200 + Math.floor(random() * 800)],
      rare: () => words[10_000 + Math.floor(random() * 20_000)],
      "two words": () =>
        `${words[Math.floor(random() * 50)]} ${words[50 + Math.floor(random() * 500)]}`,
      prefix: () => words[100 + Math.floor(random() * 2000)].slice(0, 4),
    };
    const scoped: Record<string, number[]> = {};
    const global: Record<string, number[]> = {};
    // Warm-up: the first queries of each kind load pages and JIT-compile the path.
    for (let i = 0; i < 20; i++) {
      for (const q of Object.values(kinds)) {
        const conversationId = probeConversations[i % probeConversations.length];
        await timed(
          client,
          `/v1/search/messages?${new URLSearchParams({ q: q(), conversationId })}`,
        );
        await timed(client, `/v1/search/messages?${new URLSearchParams({ q: q() })}`);
      }
    }
    for (let i = 0; i < samples; i++) {
      for (const [kind, q] of Object.entries(kinds)) {
        const conversationId = probeConversations[Math.floor(random() * probeConversations.length)];
        (scoped[kind] ??= []).push(
          await timed(
            client,
            `/v1/search/messages?${new URLSearchParams({ q: q(), conversationId })}`,
          ),
        );
        (global[kind] ??= []).push(
          await timed(client, `/v1/search/messages?${new URLSearchParams({ q: q() })}`),
        );
      }
    }
    const figures = (all: number[]): QueryFigures => ({
      p50Ms: round(percentile(all, 50), 2),
      p99Ms: round(percentile(all, 99), 2),
      samples: all.length,
    });
    return {
      messages,
      conversations,
      generateSeconds: round(generateSeconds, 1),
      indexSeconds: round(indexSeconds, 1),
      indexedPerSecond: Math.round(messages / indexSeconds),
      conversationScoped: figures(Object.values(scoped).flat()),
      global: figures(Object.values(global).flat()),
      byKind: Object.fromEntries(
        Object.keys(kinds).map((k) => [k, {
          scopedP99Ms: round(percentile(scoped[k], 99), 2),
          globalP99Ms: round(percentile(global[k], 99), 2),
        }]),
      ),
    };
  } finally {
    if (Deno.env.get("BENCH_KEEP")) console.error(`kept ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [messages, samples] = Deno.args.map(Number);
  console.log(
    JSON.stringify(
      await runSearchBench({ messages: messages || undefined, samples: samples || undefined }),
      null,
      2,
    ),
  );
}
