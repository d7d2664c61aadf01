import assert from "node:assert/strict";
import type { CacheLookup, ReadCache, Versions } from "../../src/cache/cache.ts";
import { MemoryReadCache } from "../../src/cache/memory.ts";
import { ReadThrough } from "../../src/cache/read_through.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { MetricsRegistry } from "../../src/observability/metrics.ts";
import { eventually } from "../support/wait.ts";

/** A memory cache that can be switched to failing (an outage) or to never answering (a hang). */
class FlakyCache implements ReadCache {
  readonly kind = "memory" as const;
  mode: "up" | "down" | "hung" = "up";
  calls = 0;
  constructor(readonly inner = new MemoryReadCache()) {}
  #gate<T>(op: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.mode === "down") return Promise.reject(new Error("connection refused"));
    if (this.mode === "hung") return new Promise(() => {});
    return op();
  }
  read(key: string, deps: string[]): Promise<CacheLookup> {
    return this.#gate(() => this.inner.read(key, deps));
  }
  versions(deps: string[]): Promise<Versions> {
    return this.#gate(() => this.inner.versions(deps));
  }
  write(key: string, value: string, stamp: Versions, ttlMs: number): Promise<void> {
    return this.#gate(() => this.inner.write(key, value, stamp, ttlMs));
  }
  bump(deps: string[]): Promise<void> {
    return this.#gate(() => this.inner.bump(deps));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function setup() {
  const flaky = new FlakyCache();
  const logs: string[] = [];
  const metrics = new MetricsRegistry();
  const reads = new ReadThrough(flaky, {
    ttlMs: 60_000,
    timeoutMs: 100,
    logger: createLogger({ level: "info", write: (l) => logs.push(l) }),
    metrics,
  });
  const errors = () => metrics.counter("parley_cache_errors_total", "").get({ op: "read" });
  return { flaky, reads, logs, metrics, errors };
}

async function cached(reads: ReadThrough, key: string, dep: string, value: string) {
  const { versions } = await reads.lookup(key, [dep], String);
  assert.ok(versions);
  await reads.write(key, value, versions);
  assert.equal((await reads.lookup(key, [dep], String)).value, value);
}

Deno.test("ReadThrough: cache errors read as misses, logged once per outage and counted", async () => {
  const { flaky, reads, logs, errors } = setup();
  try {
    await cached(reads, "k", "d", "v");
    flaky.mode = "down";
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await reads.lookup("k", ["d"], String), { value: null, versions: null });
    }
    assert.equal(errors(), 3);
    assert.equal(logs.filter((l) => l.includes("read cache unavailable")).length, 1);
    flaky.mode = "up";
    assert.equal((await reads.lookup("k", ["d"], String)).value, "v");
    assert.equal(logs.filter((l) => l.includes("read cache available again")).length, 1);
  } finally {
    await reads.close();
  }
});

Deno.test("ReadThrough: a cache that hangs is given up on after the timeout", async () => {
  const { flaky, reads } = setup();
  try {
    flaky.mode = "hung";
    const started = Date.now();
    assert.equal((await reads.lookup("k", ["d"], String)).versions, null);
    await reads.invalidate(["d"]);
    assert.ok(Date.now() - started < 1000);
  } finally {
    await reads.close();
  }
});

Deno.test("ReadThrough: a failed invalidation is owed; nothing is served until it is delivered", async () => {
  const { flaky, reads, metrics } = setup();
  try {
    await cached(reads, "k", "d", "before the change");
    flaky.mode = "down";
    await reads.invalidate(["d"]); // the change is committed; its bump is lost for now
    flaky.mode = "up";
    // The entry is still valid inside the cache, but this instance owes its invalidation: the
    // next lookup delivers it first, so the stale entry is never served.
    assert.equal((await reads.lookup("k", ["d"], String)).value, null);
    assert.equal(
      metrics.gauge("parley_cache_pending_invalidations", "").render().join(),
      "parley_cache_pending_invalidations 0",
    );
  } finally {
    await reads.close();
  }
});

Deno.test("ReadThrough: owed invalidations are retried in the background while nobody reads", async () => {
  const { flaky, reads } = setup();
  try {
    await cached(reads, "k", "d", "before the change");
    flaky.mode = "down";
    await reads.invalidate(["d"]);
    const { versions } = await reads.lookup("k", ["d"], String);
    assert.equal(versions, null, "no lookups while owing");
    flaky.mode = "up";
    // Another instance reading the shared cache directly sees the bump arrive on its own.
    await eventually(
      "the owed bump was delivered",
      async () => (await flaky.inner.read("k", ["d"])).value,
      (v) => v === null,
      { everyMs: 10 },
    );
  } finally {
    await reads.close();
  }
});

Deno.test("ReadThrough: writes are skipped while invalidations are owed", async () => {
  const { flaky, reads } = setup();
  try {
    const { versions } = await reads.lookup("k", ["d"], String);
    flaky.mode = "down";
    await reads.invalidate(["other"]);
    flaky.mode = "up";
    await reads.write("k", "v", versions!);
    assert.equal((await flaky.inner.read("k", ["d"])).value, null);
  } finally {
    await reads.close();
  }
});

Deno.test("ReadThrough: an entry that does not decode counts as absent and is rebuilt", async () => {
  const { reads, metrics } = setup();
  try {
    await cached(reads, "k", "d", "not json");
    const found = await reads.lookup("k", ["d"], (text) => JSON.parse(text));
    assert.equal(found.value, null);
    assert.ok(found.versions, "the versions still allow writing a fresh entry");
    await reads.write("k", '{"ok":true}', found.versions);
    assert.deepEqual((await reads.lookup("k", ["d"], JSON.parse)).value, { ok: true });
    assert.equal(metrics.counter("parley_cache_errors_total", "").get({ op: "decode" }), 1);
  } finally {
    await reads.close();
  }
});
