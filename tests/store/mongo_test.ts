// The store contract against MongoDB, whenever MONGODB_URI names a replica set (or sharded cluster):
//   MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0 deno task test
// Each test gets a fresh database with a random name, dropped afterwards. Without MONGODB_URI this
// file prints one line and registers nothing.
import { MongoStore } from "../../src/store/mongo/mod.ts";
import { runStoreContract } from "./store_contract.ts";

const uri = Deno.env.get("MONGODB_URI");

if (!uri) {
  console.log("MongoDB store contract: skipped (set MONGODB_URI to run it)");
} else {
  const run = crypto.randomUUID().slice(0, 8);
  let n = 0;
  runStoreContract("mongo", async () => {
    const store = await MongoStore.connect({
      uri,
      db: `parley_test_${run}_${++n}`,
      appName: "parley-tests",
      maxPoolSize: 20,
      timeoutMs: 10_000,
      // The contract reads older history right after writing it.
      historyReads: "primary",
    });
    return {
      store,
      close: async () => {
        try {
          await store.db.dropDatabase();
        } finally {
          await store.close();
        }
      },
    };
    // Sanitizers stay off as before: not checked here, no MongoDB ran alongside this change.
  }, { sanitizeOps: false, sanitizeResources: false });
}
