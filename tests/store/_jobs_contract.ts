import assert from "node:assert/strict";
import { newJob } from "../../src/jobs/runner.ts";
import { newId } from "../../src/ids.ts";
import { addUser, directInput, textChange } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

function job(kind: string, runAtMs: number, key?: string) {
  return newJob(
    { kind, payload: { n: runAtMs }, runAt: new Date(T0 + runAtMs), key },
    new Date(T0),
  );
}

export function jobContract(test: ContractTest): void {
  test("jobs: claim takes due jobs of the given kinds, oldest first, each by one owner", async (store) => {
    for (const j of [job("a", 30), job("a", 10), job("b", 0), job("a", 5_000)]) {
      assert.equal(await store.jobs.enqueue(j), "enqueued");
    }
    const claim = { now: at(100), until: at(10_100), limit: 10, kinds: ["a"] };
    const first = await store.jobs.claim({ ...claim, owner: "i1" });
    assert.deepEqual(first.map((j) => j.payload.n), [10, 30], "due ones of kind a, by runAt");
    assert.ok(first.every((j) => j.leaseOwner === "i1" && j.attempts === 1));
    assert.deepEqual(await store.jobs.claim({ ...claim, owner: "i2" }), [], "held by i1");
    assert.equal(
      await store.jobs.nextRunAt(["a"]),
      at(5_000),
      "the held ones not before their lease ends",
    );
    assert.equal(await store.jobs.nextRunAt(["b"]), at(0));
    assert.equal(await store.jobs.nextRunAt(["zzz"]), null);
  });

  test("jobs: concurrent claims never hand one job to two owners", async (store) => {
    for (let i = 0; i < 40; i++) await store.jobs.enqueue(job("a", i));
    const claims = await Promise.all(
      ["i1", "i2", "i3", "i4"].map((owner) =>
        store.jobs.claim({ owner, now: at(1000), until: at(9000), limit: 15, kinds: ["a"] })
      ),
    );
    const ids = claims.flat().map((j) => j.id);
    assert.equal(ids.length, 40);
    assert.equal(new Set(ids).size, 40);
  });

  test("jobs: a lapsed lease is claimable again; only the holder completes, fails or extends", async (store) => {
    const j = job("a", 0);
    await store.jobs.enqueue(j);
    const [mine] = await store.jobs.claim({
      owner: "i1",
      now: at(0),
      until: at(1000),
      limit: 1,
      kinds: ["a"],
    });
    assert.equal(await store.jobs.extend(j.id, "i2", at(5000)), false);
    assert.equal(await store.jobs.extend(j.id, "i1", at(2000)), true);
    assert.deepEqual(
      await store.jobs.claim({
        owner: "i2",
        now: at(1500),
        until: at(9000),
        limit: 1,
        kinds: ["a"],
      }),
      [],
      "extended: still held",
    );
    const [taken] = await store.jobs.claim({
      owner: "i2",
      now: at(2000),
      until: at(9000),
      limit: 1,
      kinds: ["a"],
    });
    assert.equal(taken.id, mine.id);
    assert.equal(taken.attempts, 2);
    assert.equal(await store.jobs.complete(j.id, "i1"), false, "i1 lost it");
    assert.equal(await store.jobs.fail(j.id, "i1", { error: "x" }), false);
    assert.equal(await store.jobs.complete(j.id, "i2"), true);
    assert.equal(await store.jobs.nextRunAt(["a"]), null, "done jobs are gone");
  });

  test("jobs: releaseOwner frees the leases one owner holds, and only those", async (store) => {
    await store.jobs.enqueue(job("a", 0));
    await store.jobs.enqueue(job("b", 0));
    const claim = (owner: string, kind: string) =>
      store.jobs.claim({ owner, now: at(0), until: at(60_000), limit: 1, kinds: [kind] });
    await claim("dead", "a");
    await claim("alive", "b");
    assert.equal(await store.jobs.releaseOwner("dead"), 1);
    assert.equal((await claim("restarted", "a")).length, 1, "taken back at once");
    assert.deepEqual(await claim("other", "b"), [], "another owner's lease stands");
  });

  test("jobs: fail retries at retryAt, or gives up for good", async (store) => {
    const j = job("a", 0, "k1");
    await store.jobs.enqueue(j);
    const claim = (now: number) =>
      store.jobs.claim({
        owner: "i1",
        now: at(now),
        until: at(now + 1000),
        limit: 1,
        kinds: ["a"],
      });
    await claim(0);
    assert.equal(await store.jobs.fail(j.id, "i1", { error: "boom", retryAt: at(500) }), true);
    assert.deepEqual(await claim(400), [], "not before retryAt");
    const [again] = await claim(500);
    assert.equal(again.lastError, "boom");
    assert.equal(await store.jobs.fail(j.id, "i1", { error: "boom twice" }), true);
    assert.deepEqual(await claim(10_000), []);
    const failed = await store.jobs.getByKey("k1");
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.lastError, "boom twice");
    assert.equal(await store.jobs.enqueue(job("a", 0, "k1")), "enqueued", "a failed key is free");
  });

  test("jobs: one pending job per key; reschedule and cancel unless running", async (store) => {
    assert.equal(await store.jobs.enqueue(job("a", 1000, "s:1")), "enqueued");
    assert.equal(await store.jobs.enqueue(job("a", 50, "s:1")), "exists");
    assert.equal((await store.jobs.getByKey("s:1"))?.runAt, at(1000));
    assert.equal(
      await store.jobs.reschedule("s:1", { runAt: at(2000), now: at(0), payload: { n: 7 } }),
      true,
    );
    const moved = await store.jobs.getByKey("s:1");
    assert.deepEqual([moved?.runAt, moved?.payload], [at(2000), { n: 7 }]);
    await store.jobs.claim({ owner: "i1", now: at(2000), until: at(3000), limit: 1, kinds: ["a"] });
    assert.equal(await store.jobs.reschedule("s:1", { runAt: at(9000), now: at(2500) }), false);
    assert.equal(await store.jobs.cancel("s:1", at(2500)), false, "running now");
    assert.equal(await store.jobs.cancel("s:1", at(3000)), true, "its lease lapsed");
    assert.equal(await store.jobs.getByKey("s:1"), null);
    assert.equal(await store.jobs.cancel("nope", at(0)), false);
  });

  test("jobs: a change's jobs commit with it, and not without it", async (store) => {
    const [a, b] = await Promise.all([addUser(store), addUser(store)]);
    const { conversation: c } = await store.conversations.createConversation(
      directInput(a.id, b.id),
    );
    const withJob = { ...textChange(c.id, a.id, "j-1"), jobs: [job("expire", 0, "expire:1")] };
    assert.equal((await store.log.commit(withJob)).status, "committed");
    assert.ok(await store.jobs.getByKey("expire:1"));
    const outsider = await addUser(store);
    const refused = {
      ...textChange(c.id, outsider.id, "j-2"),
      jobs: [job("expire", 0, "expire:2")],
    };
    await assert.rejects(store.log.commit(refused));
    assert.equal(await store.jobs.getByKey("expire:2"), null, "a refused change leaves no job");
    const gone = { ...textChange(newId(), a.id, "j-3"), jobs: [job("expire", 0, "expire:3")] };
    assert.equal((await store.log.commit(gone)).status, "missing");
    assert.equal(await store.jobs.getByKey("expire:3"), null);
  });
}
