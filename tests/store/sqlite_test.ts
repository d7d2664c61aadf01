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
