import type { Config } from "../config.ts";
import { MongoStore } from "./mongo/mod.ts";
import { searchFileOf } from "./sqlite/_search.ts";
import { openSqliteStore } from "./sqlite/mod.ts";
import type { Store } from "./store.ts";

/**
 * Opens the {@link Store} the configuration names: MongoDB when `config.mongo` is set (connected, its
 * collections and indexes ensured), otherwise the embedded SQLite file (`SQLITE_PATH`, by default
 * `parley.db` under `config.dataDir`; created if missing), with the configured durability and
 * group commit.
 *
 * @example
 * const store = await openStore(loadConfig(Deno.env.toObject()));
 */
export async function openStore(config: Config): Promise<Store> {
  if (config.mongo) return await MongoStore.connect(config.mongo);
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const path = config.store.sqlitePath ?? `${config.dataDir}/parley.db`;
  // Created by us, readable by this user only: SQLite gives the -wal and -shm files the same mode.
  // So is the search index's own file beside it.
  for (const file of [path, searchFileOf(path)]) {
    await (await Deno.open(file, { create: true, write: true, mode: 0o600 })).close();
  }
  return openSqliteStore({
    path,
    synchronous: config.store.sqliteSynchronous,
    groupCommit: {
      enabled: config.store.groupCommit,
      maxBatch: config.store.groupCommitMaxBatch,
      windowMs: config.store.groupCommitWindowMs,
    },
  });
}
