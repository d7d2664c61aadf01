import assert from "node:assert/strict";
import { ImagePool } from "../../src/media/image_pool.ts";
import { JobQueue } from "../../src/media/queue.ts";
import { jpeg } from "../support/media_fixtures.ts";
import { sanitized } from "../support/sanitizers.ts";

Deno.test("JobQueue runs at most `concurrency` jobs, each id once, and survives failures", async () => {
  let running = 0;
  let peak = 0;
  const done: string[] = [];
  const errors: string[] = [];
  const q = new JobQueue(2, async (id) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 10));
    running--;
    if (id === "bad") throw new Error("boom");
    done.push(id);
  }, (id) => errors.push(id));
  for (const id of ["a", "b", "bad", "c", "a", "d"]) q.add(id);
  assert.equal(q.add("b"), false, "already queued");
  await q.idle();
  assert.equal(peak, 2);
  assert.deepEqual(done.sort(), ["a", "b", "c", "d"]);
  assert.deepEqual(errors, ["bad"]);
  assert.equal(q.add("a"), true, "finished ids may be queued again");
  await q.close();
  assert.equal(q.add("z"), false, "closed");
});

Deno.test({
  name: "ImagePool: a job over its time limit is rejected and its worker replaced",
  ...sanitized,
  fn: async () => {
    const pool = new ImagePool(1);
    try {
      const big = await jpeg(3000, 3000);
      await assert.rejects(() => pool.process(big, { format: "jpeg", timeoutMs: 1 }), /timed out/);
      const ok = await pool.process(await jpeg(100, 50), { format: "jpeg", timeoutMs: 20_000 });
      assert.ok("main" in ok && ok.main.width === 100 && ok.thumb.mime === "image/jpeg");
      const bomb = new Uint8Array(await jpeg(16, 16));
      // Claim 60000×60000 pixels in the SOF header: refused before decoding.
      const sof = bomb.findIndex((b, i) => b === 0xff && bomb[i + 1] === 0xc0);
      new DataView(bomb.buffer).setUint16(sof + 5, 60000);
      new DataView(bomb.buffer).setUint16(sof + 7, 60000);
      const refused = await pool.process(bomb, { format: "jpeg", timeoutMs: 20_000 });
      assert.ok("refused" in refused && /too large/.test(refused.refused));
    } finally {
      pool.close();
    }
  },
});
