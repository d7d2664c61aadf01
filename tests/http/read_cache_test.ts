/**
 * The read cache never serves what the store would not. Two servers share one store: `cached` runs
 * with the read cache (in-process, then Redis), `truth` without it. After every kind of change (made
 * on `cached`, so its cache is the one that must notice), every user's newest history pages and
 * conversation lists are read twice from `cached` (the first read after the change, then a hit) and
 * must equal what `truth` answers, from every user's point of view.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { openStore } from "../../src/store/open.ts";
import { sharedRedis } from "../support/redis.ts";
import {
  Client,
  ok,
  registerUser,
  serverTest,
  startServer,
  type TestServer,
  type TestUser,
} from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

/** Two servers on one store (removed with them at scope exit), its users and conversations. */
interface World extends AsyncDisposable {
  cached: TestServer;
  truth: TestServer;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
  peer: TestUser;
  newcomer: TestUser;
  group: string;
  direct: string;
  /** Messages by name, as first stored. */
  sent: Map<string, { id: string }>;
}

async function send(w: World, u: TestUser, conv: string, name: string): Promise<void> {
  const res = ok(
    await u.client.post(`/v1/conversations/${conv}/messages`, {
      clientMsgId: crypto.randomUUID(),
      text: `${name} 👋🏽`,
    }),
    201,
  );
  w.sent.set(name, res.body.message);
}

function path(w: World, conv: string, name: string): string {
  return `/v1/conversations/${conv}/messages/${w.sent.get(name)!.id}`;
}

function hits(s: TestServer, read: string): number {
  return s.parley.metrics.counter("parley_cache_hits_total", "").get({ read });
}

/** A body without the per-request id problems carry. */
function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _, ...rest } = body;
  return rest;
}

/** Every user's hot reads from both servers: the cached answers must equal the store's. */
async function verify(w: World, step: string): Promise<void> {
  const before = { history: hits(w.cached, "history"), list: hits(w.cached, "conversations") };
  const reads = [
    "/v1/conversations",
    "/v1/conversations?limit=1",
    "/v1/conversations?archived=true",
    `/v1/conversations/${w.group}/messages`,
    `/v1/conversations/${w.group}/messages?limit=2`,
    `/v1/conversations/${w.direct}/messages`,
  ];
  for (const u of [w.owner, w.admin, w.member, w.peer, w.newcomer]) {
    const cached = new Client(w.cached.url, u.accessToken);
    const truth = new Client(w.truth.url, u.accessToken);
    for (const read of reads) {
      const expected = await truth.get(read);
      for (const attempt of ["first read after the change", "second read"]) {
        const got = await cached.get(read);
        assert.equal(got.status, expected.status, `${step}: ${u.username} ${read} (${attempt})`);
        assert.deepEqual(
          withoutRequestId(got.body),
          withoutRequestId(expected.body),
          `${step}: ${u.username} ${read} (${attempt})`,
        );
      }
    }
  }
  assert.ok(hits(w.cached, "history") > before.history, `${step}: history was served cached`);
  assert.ok(hits(w.cached, "conversations") > before.list, `${step}: lists were served cached`);
}

const steps: Array<[string, (w: World) => Promise<unknown>]> = [
  ["nothing changed", () => Promise.resolve()],
  ["a member sends", (w) => send(w, w.member, w.group, "hello")],
  ["a peer sends in the direct conversation", (w) => send(w, w.peer, w.direct, "psst")],
  [
    "replies in a thread, one also in the conversation",
    async (w) => {
      for (const alsoInConversation of [false, true]) {
        ok(
          await w.admin.client.post(`/v1/conversations/${w.group}/messages`, {
            clientMsgId: crypto.randomUUID(),
            text: "in the thread",
            threadId: w.sent.get("hello")!.id,
            alsoInConversation,
          }),
          201,
        );
      }
    },
  ],
  [
    "the author edits",
    async (w) => ok(await w.member.client.patch(path(w, w.group, "hello"), { text: "edited" })),
  ],
  [
    "a reaction is added",
    async (w) =>
      ok(
        await w.admin.client.put(
          `${path(w, w.group, "hello")}/reactions/${encodeURIComponent("👍")}`,
        ),
      ),
  ],
  [
    "another user reacts with the same emoji",
    async (w) =>
      ok(
        await w.owner.client.put(
          `${path(w, w.group, "hello")}/reactions/${encodeURIComponent("👍")}`,
        ),
      ),
  ],
  [
    "a reaction is removed",
    async (w) =>
      ok(
        await w.admin.client.delete(
          `${path(w, w.group, "hello")}/reactions/${encodeURIComponent("👍")}`,
        ),
      ),
  ],
  ["the owner reads up to the head", async (w) => {
    const head = (await w.owner.client.get(`/v1/conversations/${w.group}`)).body.lastSeq;
    ok(await w.owner.client.post(`/v1/conversations/${w.group}/read`, { seq: head }), 204);
    ok(await w.owner.client.post(`/v1/conversations/${w.direct}/read`, { seq: 1000 }), 204);
  }],
  [
    "a member mutes until tomorrow",
    async (w) =>
      ok(
        await w.member.client.put(`/v1/conversations/${w.group}/me`, {
          mutedUntil: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      ),
  ],
  [
    "the member unmutes",
    async (w) => ok(await w.member.client.put(`/v1/conversations/${w.group}/me`, { muted: false })),
  ],
  [
    "the owner archives the direct conversation",
    async (w) =>
      ok(await w.owner.client.put(`/v1/conversations/${w.direct}/me`, { archived: true })),
  ],
  ["the owner sends, then unarchives", async (w) => {
    await send(w, w.owner, w.group, "from the owner");
    ok(await w.owner.client.put(`/v1/conversations/${w.direct}/me`, { archived: false }));
  }],
  [
    "a member deletes the newest message for themselves",
    async (w) =>
      ok(await w.member.client.delete(`${path(w, w.group, "from the owner")}?for=me`), 204),
  ],
  [
    "an admin deletes a message for everyone",
    async (w) => ok(await w.admin.client.delete(`${path(w, w.group, "hello")}?for=everyone`), 204),
  ],
  [
    "a newcomer is added",
    async (w) =>
      ok(
        await w.owner.client.post(`/v1/conversations/${w.group}/members`, {
          userIds: [w.newcomer.id],
        }),
        201,
      ),
  ],
  ["the newcomer sends", (w) => send(w, w.newcomer, w.group, "hi all")],
  [
    "a member becomes moderator",
    async (w) =>
      ok(
        await w.owner.client.patch(`/v1/conversations/${w.group}/members/${w.member.id}`, {
          role: "moderator",
        }),
      ),
  ],
  [
    "the group is renamed",
    async (w) =>
      ok(
        await w.admin.client.patch(`/v1/conversations/${w.group}`, {
          name: "Renamed",
          description: "now with a description",
        }),
      ),
  ],
  [
    "the peer changes their display name",
    async (w) => ok(await w.peer.client.patch("/v1/users/me", { displayName: "Peer Renamed" })),
  ],
  [
    "a moderator removes the newcomer",
    async (w) =>
      ok(
        await w.member.client.delete(`/v1/conversations/${w.group}/members/${w.newcomer.id}`),
        204,
      ),
  ],
  ["a new direct conversation starts", async (w) => {
    ok(await w.member.client.post("/v1/conversations", { type: "direct", userId: w.peer.id }), 201);
  }],
  [
    "the admin leaves",
    async (w) =>
      ok(await w.admin.client.delete(`/v1/conversations/${w.group}/members/${w.admin.id}`), 204),
  ],
  [
    "the owner deletes the group",
    async (w) => ok(await w.owner.client.delete(`/v1/conversations/${w.group}`), 204),
  ],
];

async function world(env: Record<string, string>): Promise<World> {
  const dataDir = await Deno.makeTempDir({ prefix: "parley-cache-" });
  const cached = await startServer({ ...env, DATA_DIR: dataDir });
  const truth = await startServer({ DATA_DIR: dataDir, READ_CACHE: "false" });
  const [owner, admin, member, peer, newcomer] = await Promise.all(
    Array.from({ length: 5 }, () => registerUser(cached.url)),
  );
  const group = ok(
    await owner.client.post("/v1/conversations", {
      type: "group",
      name: "Cached",
      memberIds: [admin.id, member.id],
    }),
    201,
  ).body.id;
  ok(await owner.client.patch(`/v1/conversations/${group}/members/${admin.id}`, { role: "admin" }));
  const direct = ok(
    await owner.client.post("/v1/conversations", { type: "direct", userId: peer.id }),
    201,
  ).body.id;
  const w = {
    cached,
    truth,
    owner,
    admin,
    member,
    peer,
    newcomer,
    group,
    direct,
    sent: new Map(),
    async [Symbol.asyncDispose]() {
      await cached.close();
      await truth.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
  await send(w, owner, group, "seed");
  await send(w, owner, direct, "direct seed");
  return w;
}

for (const [adapter, env] of [["in-process", {}], ["Redis", { redis: true }]] as const) {
  Deno.test({
    name: `read cache (${adapter}): after every kind of change, cached newest pages and ` +
      "conversation lists equal what the store returns, for every viewer",
    ...sanitized,
    fn: async () => {
      await using redis = "redis" in env ? await sharedRedis() : undefined;
      await using w = await world(
        redis ? { REDIS_URL: redis.url, REDIS_PREFIX: `t${crypto.randomUUID()}:` } : {},
      );
      for (const [step, action] of steps) {
        await action(w);
        await verify(w, step);
      }
    },
  });
}

serverTest(
  "read cache: a change whose invalidation never arrived is still not served from a cached " +
    "history page (the page is checked against the store's lastSeq)",
  async (s) => {
    // A second handle on the same database: its writes bypass the cache invalidation, as a bump
    // lost to a network partition would.
    const raw = await openStore(loadConfig({ DATA_DIR: s.dataDir, LOG_LEVEL: "error" }));
    try {
      const u = await registerUser(s.url);
      const conv = ok(
        await u.client.post("/v1/conversations", { type: "group", name: "Lost", memberIds: [] }),
        201,
      ).body.id;
      const page = `/v1/conversations/${conv}/messages`;
      await u.client.get(page);
      assert.equal((await u.client.get(page)).body.messages.length, 1);
      assert.equal(hits(s, "history"), 1);
      const at = new Date().toISOString();
      await raw.log.commit({
        conversationId: conv,
        event: "message.created",
        actorId: u.id,
        messageId: "lost-bump",
        at,
        mutations: [{
          op: "insertMessage",
          message: {
            id: "lost-bump",
            conversationId: conv,
            senderId: u.id,
            clientMsgId: "lost-bump",
            kind: "media",
            body: null,
            mediaIds: [],
            replyTo: null,
            mentions: [],
            system: null,
            editedAt: null,
            deletedAt: null,
            createdAt: at,
          },
        }],
      });
      const after = (await u.client.get(page)).body.messages;
      assert.equal(after.at(-1).id, "lost-bump");
      assert.equal(
        s.parley.metrics.counter("parley_cache_misses_total", "").get({
          read: "history",
          reason: "stale",
        }),
        1,
      );
    } finally {
      await raw.close();
    }
  },
);
