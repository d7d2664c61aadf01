import type { Store } from "../store.ts";
import { sqliteAccounts } from "./_accounts.ts";
import { sqliteActivity } from "./_activity.ts";
import { sqliteAudit } from "./_audit.ts";
import { CommitQueue } from "./_commit_queue.ts";
import { sqliteConversations } from "./_conversations.ts";
import { Db } from "./_db.ts";
import { sqliteExports } from "./_exports.ts";
import { sqliteJobs } from "./_jobs.ts";
import { sqliteScheduled } from "./_scheduled.ts";
import { sqliteDrafts } from "./_drafts.ts";
import { sqliteModeration } from "./_moderation.ts";
import { SqliteLog } from "./_log.ts";
import { sqliteMedia } from "./_media.ts";
import { sqliteMessages } from "./_messages.ts";
import { migrate } from "./_migrations.ts";
import { sqlitePrivacy } from "./_privacy.ts";
import { sqlitePush } from "./_push.ts";
import { openSearchFile, searchFileOf, sqliteSearch } from "./_search.ts";
import { sqliteArchive } from "./_archive.ts";
import { Writer } from "./_writer.ts";

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file path, or `:memory:`. */
  path: string;
  synchronous?: "FULL" | "NORMAL";
  groupCommit?: { enabled: boolean; maxBatch: number; windowMs: number };
}

/**
 * The embedded {@link Store}: one SQLite file in WAL mode through `node:sqlite`, numbered migrations
 * applied on open. Reads use the main thread's connection; every write runs on one writer connection
 * in a worker (`writer_worker.ts`), commits in group-committed transactions. Several processes may
 * share the file (writers take the lock with `BEGIN IMMEDIATE` and wait on a busy timeout).
 */
export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  /** The main thread's connection: reads only (and migrations at start). */
  readonly db: Db;
  /** The group-commit queue (its counters show batch sizes). */
  readonly queue: CommitQueue;
}

/** Opens (creating and migrating if needed) an embedded store. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const synchronous = options.synchronous ?? "FULL";
  const db = new Db(options.path, { synchronous });
  migrate(db);
  // The search index lives in a file of its own with its own writer thread and read connection, so
  // indexing never holds the message writer (nor its lock, nor its fsyncs).
  const searchPath = searchFileOf(options.path);
  const searchDb = openSearchFile(searchPath);
  const writer = new Writer(options.path, synchronous);
  const searchWriter = new Writer(searchPath, "NORMAL", options.path);
  const queue = new CommitQueue(
    writer,
    options.groupCommit ?? { enabled: true, maxBatch: 256, windowMs: 0 },
  );
  return {
    kind: "sqlite",
    db,
    queue,
    accounts: sqliteAccounts(db, writer),
    conversations: sqliteConversations(db, writer),
    log: new SqliteLog(db, queue),
    messages: sqliteMessages(db, writer),
    media: sqliteMedia(db, writer),
    audit: sqliteAudit(db, writer),
    privacy: sqlitePrivacy(db, writer, () => queue.drain(), searchWriter),
    exports: sqliteExports(db, writer),
    activity: sqliteActivity(db, writer),
    jobs: sqliteJobs(db, writer),
    scheduled: sqliteScheduled(db, writer),
    drafts: sqliteDrafts(db, writer),
    moderation: sqliteModeration(db, writer),
    push: sqlitePush(db, writer),
    search: sqliteSearch(searchDb, searchWriter),
    archive: sqliteArchive(db, writer),
    ping() {
      db.get("SELECT 1 AS ok");
      return Promise.resolve();
    },
    async close() {
      await queue.drain();
      await writer.close();
      await searchWriter.close();
      searchDb.close();
      db.close();
    },
  };
}
