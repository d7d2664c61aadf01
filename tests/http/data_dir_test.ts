import assert from "node:assert/strict";
import { registerUser, startServer, tempDir } from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

const mode = async (path: string) => ((await Deno.stat(path)).mode ?? 0) & 0o777;

Deno.test({
  name: "DATA_DIR is created readable by this user only (0700), its files 0600",
  ...sanitized,
  fn: async () => {
    await using parent = await tempDir("parley-perms-");
    const dir = `${parent.path}/data`;
    await using s = await startServer({ DATA_DIR: dir });
    await registerUser(s.url); // a write: the WAL exists
    assert.equal(await mode(dir), 0o700);
    const files = ["parley.db", "parley.db-wal", "parley.db-shm", "keys.json"];
    // The search index's own file (its WAL appears with its first write).
    files.push("parley-search.db", "parley-search.db-shm");
    for (const file of files) {
      assert.equal(await mode(`${dir}/${file}`), 0o600, file);
    }
    assert.equal(await mode(`${dir}/media`), 0o700);
    assert.ok(!s.logs.some((l) => l.includes("readable by other users")));
  },
});

Deno.test({
  name: "an existing DATA_DIR that others may read gets a warning at start-up",
  ...sanitized,
  fn: async () => {
    await using parent = await tempDir("parley-perms-");
    const dir = `${parent.path}/data`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o755);
    await using s = await startServer({ DATA_DIR: dir });
    const warning = s.logs.find((l) => l.includes("DATA_DIR is readable by other users"));
    assert.ok(warning, "warned");
    assert.match(warning!, /"file.mode":"755"/);
  },
});
