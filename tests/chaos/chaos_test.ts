import assert from "node:assert/strict";
import { runChaos } from "../../bench/chaos/run.ts";

// The short chaos run (the full one is `deno task chaos`): two instances and Redis behind fault
// proxies, an instance SIGKILLed, Redis paused, partitioned from one instance and restarted, client
// connections reset, while six users send 1,500 messages; then the total-queue check.
Deno.test({
  name: "chaos (short): nothing acknowledged is lost, duplicated, reordered, skipped or leaked",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await runChaos({ short: true });
    const v = r.verdict;
    const context = `${JSON.stringify({ ...r, timeline: undefined })}\n${r.timeline.join("\n")}`;
    assert.deepEqual(
      {
        lost: v.lost,
        duplicated: v.duplicated,
        reordered: v.reordered,
        gaps: v.gaps,
        leaked: v.leaked,
        refused: v.refused,
        unacknowledged: v.unacknowledged,
      },
      { lost: 0, duplicated: 0, reordered: 0, gaps: 0, leaked: 0, refused: 0, unacknowledged: 0 },
      context,
    );
    assert.ok(v.acknowledged >= 1_500, context);
    assert.ok(v.delivered >= v.acknowledged, context);
    for (
      const kind of [
        "instance SIGKILL",
        "Redis SIGSTOP",
        "Redis restart",
        "Redis partition (one instance)",
        "client reset",
      ] as const
    ) {
      assert.equal(r.faults[kind], 1, `${kind} played`);
    }
    assert.ok(r.reconnects > 0, "clients reconnected through the faults");
    // Sends keep flowing while Redis hangs: never a second without an ack.
    assert.ok(r.maxAckSilenceInRedisPauseMs <= 1_000, context);
  },
});
