// Brings the message search index up to date at once: indexes every conversation whose events are
// past what is indexed, and re-indexes every message indexed under another key (the search key is
// derived from ENCRYPTION_ACTIVE_KEY_ID: after rotating it, run this, or let the servers re-index in
// the background). Runs beside live servers; safe to stop and run again.
//
//   deno task search:reindex
import { loadConfig } from "../src/config.ts";
import { DataKeys, Keyring } from "../src/crypto/envelope.ts";
import { loadKeys } from "../src/crypto/keys.ts";
import { createLogger } from "../src/observability/logger.ts";
import { MetricsRegistry } from "../src/observability/metrics.ts";
import { SearchIndexer } from "../src/services/search_index.ts";
import { SearchTokens } from "../src/services/search_tokens.ts";
import { openStore } from "../src/store/open.ts";

/** Indexes everything behind or stale; returns how many messages it touched. */
export async function reindex(env: Record<string, string | undefined>): Promise<number> {
  const config = loadConfig(env);
  const keys = await loadKeys(config);
  const store = await openStore(config);
  try {
    const indexer = new SearchIndexer({
      store,
      dataKeys: new DataKeys(store, new Keyring(keys.encryption.keys, keys.encryption.activeKeyId)),
      tokens: await SearchTokens.create(keys.encryption, { worker: false }),
      logger: createLogger({ level: config.logLevel }),
      metrics: new MetricsRegistry(),
      share: 1,
    });
    return await indexer.catchUp();
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  const n = await reindex(Deno.env.toObject());
  console.log(`search:reindex: ${n} messages indexed or re-indexed`);
}
