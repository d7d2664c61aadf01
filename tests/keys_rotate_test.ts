import assert from "node:assert/strict";
import { generateKeyValues } from "../src/crypto/keys.ts";
import { Client, registerUser, startServer, tempDir, type TestUser } from "./support/server.ts";
import { sanitized } from "./support/sanitizers.ts";

async function runTool(env: Record<string, string>, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tools/keys_rotate.ts", import.meta.url).pathname, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test(
  "keys:rotate re-wraps every data key under the new key, resumably; old keys can then be dropped",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-rotate-");
    const first = await generateKeyValues();
    const second = await generateKeyValues();
    const [oldId, oldKey] = first.ENCRYPTION_KEYS.split(/:(.*)/s);
    const [newId, newKey] = second.ENCRYPTION_KEYS.split(/:(.*)/s);
    const base = {
      DATA_DIR: dir.path,
      JWT_KEYS: first.JWT_KEYS,
      URL_SIGNING_KEY: first.URL_SIGNING_KEY,
    };
    const withKeys = (keys: string, active: string) => ({
      ...base,
      ENCRYPTION_KEYS: keys,
      ENCRYPTION_ACTIVE_KEY_ID: active,
    });

    // Content is written while only the old key exists.
    const users: TestUser[] = [];
    const texts: string[] = [];
    {
      await using s = await startServer(withKeys(`${oldId}:${oldKey}`, oldId));
      users.push(...await Promise.all([0, 1, 2].map(() => registerUser(s.url))));
      for (const [i, u] of users.entries()) {
        const peer = users[(i + 1) % users.length];
        const dm = (await u.client.post("/v1/conversations", { type: "direct", userId: peer.id }))
          .body;
        const text = `secret number ${i}`;
        texts.push(text);
        await u.client.post(`/v1/conversations/${dm.id}/messages`, { clientMsgId: `m${i}`, text });
      }
    }

    // Rotation runs with both keys, the new one active; a bounded run stops early and says so.
    const both = withKeys(`${oldId}:${oldKey},${newId}:${newKey}`, newId);
    const partial = await runTool(both, ["--batch", "1", "--max", "2"]);
    assert.equal(partial.code, 2, partial.text);
    assert.match(partial.text, /still under older keys; run again/);
    const rest = await runTool(both, ["--batch", "1"]);
    assert.equal(rest.code, 0, rest.text);
    assert.match(rest.text, /done: 1 re-wrapped/);
    const again = await runTool(both, []);
    assert.match(again.text, /done: 0 re-wrapped/, "nothing left to do");

    // Only the new key is needed now; the old one alone can no longer read anything.
    {
      await using s = await startServer(withKeys(`${newId}:${newKey}`, newId));
      for (const [i, u] of users.entries()) {
        const list =
          (await new Client(s.url, u.accessToken).get("/v1/conversations")).body.conversations;
        const mine = list.map((c: { lastMessage?: { text?: string } }) => c.lastMessage?.text);
        assert.ok(mine.includes(texts[i]), `user ${i} reads their message under the new key`);
      }
    }
    {
      await using s = await startServer(withKeys(`${oldId}:${oldKey}`, oldId));
      const old =
        (await new Client(s.url, users[0].accessToken).get("/v1/conversations")).body.conversations;
      assert.ok(
        old.every((c: { lastMessage?: { text?: string } }) => c.lastMessage?.text === undefined),
      );
    }
  },
);
