import assert from "node:assert/strict";
import { JobRunner } from "../../src/jobs/runner.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { MetricsRegistry } from "../../src/observability/metrics.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/mod.ts";
import { eventually } from "../support/wait.ts";

/** Waits until `cond` holds (polling), failing with `what` after `timeoutMs`. */
function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  return eventually(what, async () => await cond(), (ok) => ok, { timeoutMs, everyMs: 20 });
}

const quiet = createLogger({ level: "error", write: () => {} });

/** Two stores (two connections and writer threads) on one database file, as two instances have. */
async function twoInstances(): Promise<
  { stores: SqliteStore[]; [Symbol.asyncDispose](): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "parley-jobs-" });
  const stores = [
    openSqliteStore({ path: `${dir}/p.db` }),
    openSqliteStore({ path: `${dir}/p.db` }),
  ];
  return {
    stores,
    async [Symbol.asyncDispose]() {
      for (const s of stores) await s.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function runner(store: SqliteStore, instanceId: string, pollMs = 50): JobRunner {
  return new JobRunner({
    store,
    instanceId,
    logger: quiet,
    metrics: new MetricsRegistry(),
    pollMs,
  });
}

Deno.test("two runners on one store run each of 60 jobs exactly once, none before its time", async () => {
  await using env = await twoInstances();
  const runs = new Map<number, number>();
  const early: number[] = [];
  const runners = env.stores.map((s, i) => runner(s, `i${i}`));
  for (const r of runners) {
    r.register("tick", (job) => {
      const n = job.payload.n as number;
      if (Date.now() < Date.parse(job.runAt)) early.push(n);
      runs.set(n, (runs.get(n) ?? 0) + 1);
      return Promise.resolve();
    }, { concurrency: 3 });
    r.start();
  }
  const start = Date.now();
  for (let n = 0; n < 60; n++) {
    await runners[n % 2].enqueue({
      kind: "tick",
      payload: { n },
      runAt: new Date(start + (n % 10) * 100),
    });
  }
  await until("all 60 ran", () => runs.size === 60);
  await Promise.all(runners.map((r) => r.close()));
  assert.deepEqual([...runs.values()].filter((c) => c !== 1), [], "each exactly once");
  assert.deepEqual(early, []);
});

Deno.test("a failing job is retried with backoff, then given up once after maxAttempts", async () => {
  await using env = await twoInstances();
  const r = runner(env.stores[0], "i0");
  const attempts: number[] = [];
  const gaveUp: string[] = [];
  r.register("flaky", (job) => {
    attempts.push(Date.now());
    return job.payload.failUntil as number >= job.attempts
      ? Promise.reject(new Error(`attempt ${job.attempts}`))
      : Promise.resolve();
  }, {
    backoffMs: (n) => n * 100,
    onGiveUp: (job) => (gaveUp.push(job.id), Promise.resolve()),
  });
  r.start();
  await r.enqueue({ kind: "flaky", payload: { failUntil: 2 }, key: "ok-on-3" });
  await r.enqueue({ kind: "flaky", payload: { failUntil: 99 }, key: "never", maxAttempts: 2 });
  await until(
    "one given up, one done",
    async () => gaveUp.length === 1 && (await env.stores[0].jobs.getByKey("ok-on-3")) === null,
  );
  const failed = await env.stores[0].jobs.getByKey("never");
  assert.equal(failed?.status, "failed");
  assert.equal(failed?.lastError, "attempt 2");
  assert.equal(attempts.length, 5, "3 runs of the first, 2 of the second");
  await r.close();
  assert.equal(gaveUp.length, 1);
});

Deno.test("close() hands running jobs back at once: another instance finishes them", async () => {
  await using env = await twoInstances();
  const [a, b] = [runner(env.stores[0], "a"), runner(env.stores[1], "b")];
  const started = Promise.withResolvers<void>();
  a.register("slow", (_job, signal) =>
    new Promise((_resolve, reject) => {
      started.resolve();
      signal.addEventListener("abort", () => reject(new Error("shutting down")));
    }), { leaseMs: 60_000 });
  const finishedBy: string[] = [];
  b.register("slow", () => (finishedBy.push("b"), Promise.resolve()), { leaseMs: 60_000 });
  a.start();
  await a.enqueue({ kind: "slow", payload: {} });
  await started.promise;
  b.start();
  await a.close();
  // Without the hand-back, b would wait for a's 60 s lease.
  await until("b finished it", () => finishedBy.length === 1, 3000);
  await b.close();
});

Deno.test("a lease that lapses while its holder is stuck lets another instance take the job over", async () => {
  await using env = await twoInstances();
  const stuck = runner(env.stores[0], "stuck");
  const rescuer = runner(env.stores[1], "rescuer");
  // The stuck handler never ends and its lease renewals are refused (its instance is "frozen").
  const never = Promise.withResolvers<void>();
  stuck.register("job", () => never.promise, { leaseMs: 300 });
  const extend = env.stores[0].jobs.extend;
  env.stores[0].jobs.extend = () => Promise.resolve(false);
  stuck.start();
  await stuck.enqueue({ kind: "job", payload: {} });
  await until(
    "the job is stored",
    async () => (await env.stores[1].jobs.nextRunAt(["job"])) !== null,
  );
  const done: string[] = [];
  rescuer.register("job", () => (done.push("rescuer"), Promise.resolve()), { leaseMs: 300 });
  rescuer.start();
  await until("the rescuer ran it", () => done.length === 1, 3000);
  env.stores[0].jobs.extend = extend;
  never.resolve();
  await Promise.all([stuck.close(), rescuer.close()]);
  assert.equal(await env.stores[0].jobs.nextRunAt(["job"]), null, "finished once, by the rescuer");
});
