import { StoreActivityLedger } from "../../src/activity/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/mod.ts";
import { runActivityContract } from "./activity_contract.ts";

runActivityContract("store (sqlite)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-activity-" });
  const store = openSqliteStore({ path: `${dir}/parley.db` });
  return {
    ledger: new StoreActivityLedger(store),
    close: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
