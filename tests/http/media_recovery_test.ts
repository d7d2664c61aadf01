import assert from "node:assert/strict";
import { mp4 } from "../support/media_fixtures.ts";
import { settled, upload } from "../support/media.ts";
import { spawnServer } from "../support/process.ts";
import { Client, registerUser, serverTest, startServer } from "../support/server.ts";

/** An "ffmpeg" that hangs until its parent dies or it is killed: a job stuck mid-processing. */
async function hangingFfmpeg(path: string): Promise<string> {
  await Deno.writeTextFile(
    path,
    "#!/bin/sh\nwhile kill -0 $PPID 2>/dev/null; do sleep 0.2; done\n",
    { mode: 0o755 },
  );
  return path;
}

Deno.test({
  name: "a job interrupted by a crash is processed when the instance starts again",
  ...serverTest,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "parley-recovery-" });
    const hang = await hangingFfmpeg(`${dataDir}-ffmpeg.sh`);
    const env = { DATA_DIR: dataDir, INSTANCE_ID: "recovery-test", LOG_LEVEL: "debug" };
    let first = await spawnServer({ ...env, FFMPEG_PATH: hang });
    try {
      const u = await registerUser(first.url);
      const res = await upload(u.client, await mp4(1), { type: "video/mp4", filename: "c.mp4" });
      assert.equal(res.status, 201);
      await first.waitForLine(/"message":"media job started"/);
      first.kill("SIGKILL");
      await first.exited;

      first = await spawnServer(env);
      const m = await settled(new Client(first.url, u.accessToken), res.body.id, 60_000);
      assert.equal(m.status, "ready", JSON.stringify(m));
      assert.equal(m.kind, "video");
      assert.ok(m.durationMs > 900);
      const started = first.lines.filter((l) => l.includes('"media job started"'));
      assert.match(started[0], /"parley.media.attempt":2/, "the second attempt");
      const probe = await Deno.makeTempDir();
      await Deno.remove(probe);
      const tempRoot = probe.slice(0, probe.lastIndexOf("/"));
      for await (const entry of Deno.readDir(tempRoot)) {
        assert.ok(
          !entry.name.startsWith("parley-media-recovery-test-"),
          `the crashed job's plaintext temp dir ${entry.name} was removed`,
        );
      }
    } finally {
      first.kill("SIGKILL");
      await first.exited;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(hang).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "a shutdown interrupts running jobs without failing them; another instance takes them at once",
  ...serverTest,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "parley-recovery-" });
    const hang = await hangingFfmpeg(`${dataDir}-ffmpeg.sh`);
    try {
      const first = await startServer({ DATA_DIR: dataDir, FFMPEG_PATH: hang });
      const u = await registerUser(first.url);
      const res = await upload(u.client, await mp4(1), { type: "video/mp4" });
      assert.equal(res.status, 201);
      while (!first.logs.some((l) => l.includes('"media job started"'))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const stopping = performance.now();
      await first.close();
      assert.ok(performance.now() - stopping < 5000, "shutdown does not wait for the job");
      assert.ok(first.logs.some((l) => l.includes('"media job interrupted by shutdown"')));

      const second = await startServer({ DATA_DIR: dataDir });
      try {
        const m = await settled(new Client(second.url, u.accessToken), res.body.id, 60_000);
        assert.equal(m.status, "ready", "taken over without waiting for the claim to expire");
      } finally {
        await second.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(hang).catch(() => {});
    }
  },
});
