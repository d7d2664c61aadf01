import assert from "node:assert/strict";
import { generateKeyValues } from "../src/crypto/keys.ts";
import { Client, registerUser, serverTest, startServer } from "./support/server.ts";

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

Deno.test({
  name:
    "keys:rotate re-wraps every data key under the new key, resumably; old keys can then be dropped",
  ...serverTest,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "parley-rotate-" });
    try {
      const first = await generateKeyValues();
      const second = await generateKeyValues();
      const [oldId, oldKey] = first.ENCRYPTION_KEYS.split(/:(.*)/s);
      const [newId, newKey] = second.ENCRYPTION_KEYS.split(/:(.*)/s);
      const base = {
        DATA_DIR: dataDir,
        JWT_KEYS: first.JWT_KEYS,
        URL_SIGNING_KEY: first.URL_SIGNING_KEY,
      };
      const withKeys = (keys: string, active: string) => ({
        ...base,
        ENCRYPTION_KEYS: keys,
        ENCRYPTION_ACTIVE_KEY_ID: active,
      });

      // Content is written while only the old key exists.
      let s = await startServer(withKeys(`${oldId}:${oldKey}`, oldId));
      const users = await Promise.all([0, 1, 2].map(() => registerUser(s.url)));
      const texts: string[] = [];
      for (const [i, u] of users.entries()) {
        const peer = users[(i + 1) % users.length];
        const dm =
          (await u.client.post("/v1/conversations", { type: "direct", userId: peer.id })).body;
        const text = `secret number ${i}`;
        texts.push(text);
        await u.client.post(`/v1/conversations/${dm.id}/messages`, { clientMsgId: `m${i}`, text });
      }
      await s.close();

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
      s = await startServer(withKeys(`${newId}:${newKey}`, newId));
      for (const [i, u] of users.entries()) {
        const list =
          (await new Client(s.url, u.accessToken).get("/v1/conversations")).body.conversations;
        const mine = list.map((c: { lastMessage?: { text?: string } }) => c.lastMessage?.text);
        assert.ok(mine.includes(texts[i]), `user ${i} reads their message under the new key`);
      }
      await s.close();
      s = await startServer(withKeys(`${oldId}:${oldKey}`, oldId));
      const old =
        (await new Client(s.url, users[0].accessToken).get("/v1/conversations")).body.conversations;
      assert.ok(
        old.every((c: { lastMessage?: { text?: string } }) => c.lastMessage?.text === undefined),
      );
      await s.close();
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
