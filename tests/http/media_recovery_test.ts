import assert from "node:assert/strict";
import { mp4 } from "../support/media_fixtures.ts";
import { settled, upload } from "../support/media.ts";
import { spawnServer } from "../support/process.ts";
import { Client, registerUser, startServer, tempDir } from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

/**
 * An "ffmpeg" that hangs until its parent dies or it is killed: a job stuck mid-processing. The
 * script is removed at scope exit.
 */
async function hangingFfmpeg(path: string): Promise<{ path: string } & AsyncDisposable> {
  await Deno.writeTextFile(
    path,
    "#!/bin/sh\nwhile kill -0 $PPID 2>/dev/null; do sleep 0.2; done\n",
    { mode: 0o755 },
  );
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}) };
}

Deno.test(
  "a job interrupted by a crash is processed when the instance starts again",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-recovery-");
    await using hang = await hangingFfmpeg(`${dir.path}-ffmpeg.sh`);
    const env = { DATA_DIR: dir.path, INSTANCE_ID: "recovery-test", LOG_LEVEL: "debug" };
    await using first = await spawnServer({ ...env, FFMPEG_PATH: hang.path });
    const u = await registerUser(first.url);
    const res = await upload(u.client, await mp4(1), { type: "video/mp4", filename: "c.mp4" });
    assert.equal(res.status, 201);
    await first.waitForLine(/"message":"media job started"/);
    first.kill("SIGKILL");
    await first.exited;

    await using second = await spawnServer(env);
    const m = await settled(new Client(second.url, u.accessToken), res.body.id, 60_000);
    assert.equal(m.status, "ready", JSON.stringify(m));
    assert.equal(m.kind, "video");
    assert.ok(m.durationMs > 900);
    const started = second.lines.filter((l) => l.includes('"media job started"'));
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
  },
);

Deno.test(
  "a shutdown interrupts running jobs without failing them; another instance takes them at once",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-recovery-");
    await using hang = await hangingFfmpeg(`${dir.path}-ffmpeg.sh`);
    await using first = await startServer({ DATA_DIR: dir.path, FFMPEG_PATH: hang.path });
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

    await using second = await startServer({ DATA_DIR: dir.path });
    const m = await settled(new Client(second.url, u.accessToken), res.body.id, 60_000);
    assert.equal(m.status, "ready", "taken over without waiting for the claim to expire");
  },
);
