import assert from "node:assert/strict";
import { encodeBase64 } from "../src/domain/encoding.ts";
import { reindex } from "../tools/search_reindex.ts";
import { registerUser, startServer, tempDir } from "./support/server.ts";
import { eventually } from "./support/wait.ts";

const key = () => encodeBase64(crypto.getRandomValues(new Uint8Array(32)));

Deno.test("search:reindex re-indexes under a rotated key, and is a no-op when run again", async () => {
  await using dir = await tempDir("parley-reindex-");
  const [k1, k2] = [key(), key()];
  const before = {
    DATA_DIR: dir.path,
    ENCRYPTION_KEYS: `k1:${k1}`,
    ENCRYPTION_ACTIVE_KEY_ID: "k1",
  };
  const after = {
    DATA_DIR: dir.path,
    ENCRYPTION_KEYS: `k1:${k1},k2:${k2}`,
    ENCRYPTION_ACTIVE_KEY_ID: "k2",
  };
  let token: string;
  let conversationId: string;
  {
    await using s = await startServer(before);
    const a = await registerUser(s.url, {
      username: "reindexer",
      password: "correct horse battery",
    });
    token = a.accessToken;
    conversationId = (await a.client.post("/v1/conversations", {
      type: "group",
      name: "Keys",
      memberIds: [],
    })).body.id;
    await a.client.post(`/v1/conversations/${conversationId}/messages`, {
      clientMsgId: "r1",
      text: "rotation canary",
    });
    await eventually(
      "indexed",
      async () => (await a.client.get("/v1/search/messages?q=canary")).body.results.length,
      (n) => n === 1,
      { timeoutMs: 2000 },
    );
  }
  assert.ok(await reindex(after) >= 1, "the message was under the old key");
  assert.equal(await reindex(after), 0, "nothing left to do");
  await using s = await startServer(after);
  const res = await fetch(`${s.url}/v1/search/messages?q=canary`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.results.length, 1, "found under the new key at once");
});

Deno.test("search:reindex catches up every conversation behind, however many", async () => {
  await using dir = await tempDir("parley-reindex-many-");
  const env = { DATA_DIR: dir.path };
  {
    // No index kept while these are written: every conversation is behind afterwards.
    await using s = await startServer({ ...env, SEARCH_ENABLED: "false" });
    const a = await registerUser(s.url);
    for (let i = 0; i < 330; i++) {
      const id = (await a.client.post("/v1/conversations", {
        type: "group",
        name: `G${i}`,
        memberIds: [],
      })).body.id;
      const sent = await a.client.post(`/v1/conversations/${id}/messages`, {
        clientMsgId: `m${i}`,
        text: `backlog ${i}`,
      });
      assert.equal(sent.status, 201);
    }
  }
  assert.ok(await reindex(env) >= 330, "every message of every conversation");
  await using s = await startServer({ ...env, SEARCH_ENABLED: "false" });
  assert.deepEqual(await s.parley.store.search.behind(1000), [], "nothing is left behind");
});
