import { invalidatingStore } from "../../src/cache/invalidating_store.ts";
import { MemoryReadCache } from "../../src/cache/memory.ts";
import { ReadThrough } from "../../src/cache/read_through.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { MetricsRegistry } from "../../src/observability/metrics.ts";
import { openSqliteStore } from "../../src/store/sqlite/mod.ts";
import { runStoreContract } from "./store_contract.ts";

runStoreContract("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-store-" });
  const store = openSqliteStore({ path: `${dir}/parley.db` });
  return {
    store,
    close: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

runStoreContract("sqlite (no group commit)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-store-" });
  const store = openSqliteStore({
    path: `${dir}/parley.db`,
    groupCommit: { enabled: false, maxBatch: 1, windowMs: 0 },
  });
  return {
    store,
    close: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

// The read-cache wrapper overrides a handful of writes and forwards the rest: every method must still
// behave as the port says through it.
runStoreContract("sqlite + read cache", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-store-" });
  const inner = openSqliteStore({ path: `${dir}/parley.db` });
  const reads = new ReadThrough(new MemoryReadCache({ maxEntries: 1000 }), {
    ttlMs: 60_000,
    timeoutMs: 1000,
    logger: createLogger({ level: "error", write: () => {} }),
    metrics: new MetricsRegistry(),
  });
  const store = invalidatingStore(inner, (deps) => reads.invalidate(deps));
  return {
    store,
    close: async () => {
      await store.close();
      await reads.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
