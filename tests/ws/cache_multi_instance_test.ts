/**
 * Two instances (processes) share Redis and the store. Instance two's read cache is warm; every change
 * is committed on instance one; instance two must never answer with what it cached before. Answers
 * are compared with a third server that reads the same store without a cache.
 */
import assert from "node:assert/strict";
import { startCluster } from "../support/cluster.ts";
import type { ServerProcess } from "../support/process.ts";
import { Client, ok, registerUser, startServer, type TestUser } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

async function cacheHits(s: ServerProcess): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith("parley_cache_hits_total{"))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

Deno.test({
  name: "two instances sharing Redis: after a change committed on one, the other never serves " +
    "its cached page or list, whether read at once or on the event",
  ...sanitized,
  fn: async () => {
    await using cluster = await startCluster(2);
    const { instances: [one, two] } = cluster;
    await using truth = await startServer({ DATA_DIR: cluster.dataDir, READ_CACHE: "false" });
    let socket: WsClient | undefined;
    try {
      const [a, b, c] = await Promise.all([one, one, one].map((s) => registerUser(s.url)));
      const group = ok(
        await a.client.post("/v1/conversations", {
          type: "group",
          name: "Across",
          memberIds: [b.id, c.id],
        }),
        201,
      ).body.id;
      const dm = ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201)
        .body.id;
      const reads: Array<[TestUser, string]> = [
        [b, `/v1/conversations/${group}/messages`],
        [b, `/v1/conversations/${dm}/messages`],
        [b, "/v1/conversations"],
        [a, "/v1/conversations"],
        [a, `/v1/conversations/${group}/messages?limit=3`],
      ];
      /** Instance two's answers equal the store's. */
      const sameAsStore = async (step: string) => {
        for (const [u, path] of reads) {
          const [got, expected] = await Promise.all([
            new Client(two.url, u.accessToken).get(path),
            new Client(truth.url, u.accessToken).get(path),
          ]);
          assert.equal(got.status, expected.status, `${step}: ${path}`);
          assert.deepEqual(got.body, expected.body, `${step}: ${u.username} ${path}`);
        }
      };
      const warm = async () => {
        for (const [u, path] of reads) {
          for (let i = 0; i < 2; i++) await new Client(two.url, u.accessToken).get(path);
        }
      };
      socket = await WsClient.connect(two.url, b.accessToken);
      const on = (base: string, u: TestUser) => new Client(base, u.accessToken);
      let message = "";
      const steps: Array<
        [string, () => Promise<{ status: number; body: unknown }>, string | null]
      > = [
        ["send", async () => {
          const res = ok(
            await on(one.url, a).post(`/v1/conversations/${group}/messages`, {
              clientMsgId: crypto.randomUUID(),
              text: "first",
            }),
            201,
          );
          message = res.body.message.id;
          return res;
        }, "message.created"],
        ["edit", () =>
          on(one.url, a).patch(`/v1/conversations/${group}/messages/${message}`, {
            text: "edited",
          }), "message.updated"],
        ["react", () =>
          on(one.url, c).put(
            `/v1/conversations/${group}/messages/${message}/reactions/${encodeURIComponent("🎉")}`,
          ), "reaction.updated"],
        [
          "send in the direct conversation",
          () =>
            on(one.url, a).post(`/v1/conversations/${dm}/messages`, {
              clientMsgId: crypto.randomUUID(),
              text: "psst",
            }),
          "message.created",
        ],
        [
          "read marker",
          () => on(one.url, b).post(`/v1/conversations/${dm}/read`, { seq: 100 }),
          null,
        ],
        ["mute", () => on(one.url, b).put(`/v1/conversations/${group}/me`, { muted: true }), null],
        [
          "archive",
          () => on(one.url, b).put(`/v1/conversations/${dm}/me`, { archived: true }),
          null,
        ],
        [
          "delete for me",
          () => on(one.url, b).delete(`/v1/conversations/${group}/messages/${message}?for=me`),
          null,
        ],
        [
          "delete for everyone",
          () =>
            on(one.url, a).delete(`/v1/conversations/${group}/messages/${message}?for=everyone`),
          "message.deleted",
        ],
        [
          "rename",
          () => on(one.url, a).patch(`/v1/conversations/${group}`, { name: "Renamed" }),
          "conversation.updated",
        ],
        [
          "remove a member",
          () => on(one.url, a).delete(`/v1/conversations/${group}/members/${c.id}`),
          "member.removed",
        ],
      ];
      for (const [step, change, event] of steps) {
        await warm();
        const hits = await cacheHits(two);
        await sameAsStore(`${step} (before)`);
        assert.ok(await cacheHits(two) > hits, `${step}: instance two served from its cache`);
        const res = await change();
        assert.ok(res.status < 300, `${step}: ${res.status} ${JSON.stringify(res.body)}`);
        // Read on instance two at once, as another device of the user would...
        await sameAsStore(`${step} (right after the response)`);
        if (event) {
          // ...and when the event reaches instance two's socket.
          await socket.event(event);
          await sameAsStore(`${step} (on the event)`);
        }
      }
    } finally {
      await socket?.close();
    }
  },
});
