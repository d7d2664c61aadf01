import type { Store } from "../store.ts";
import { SqliteAccounts } from "./_accounts.ts";
import { SqliteActivity } from "./_activity.ts";
import { SqliteAudit } from "./_audit.ts";
import { CommitQueue } from "./_commit_queue.ts";
import { SqliteConversations } from "./_conversations.ts";
import { Db } from "./_db.ts";
import { SqliteExports } from "./_exports.ts";
import { SqliteLog } from "./_log.ts";
import { SqliteMedia } from "./_media.ts";
import { SqliteMessages } from "./_messages.ts";
import { migrate } from "./_migrations.ts";
import { SqlitePrivacy } from "./_privacy.ts";
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
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  /** The main thread's connection: reads only (and migrations at start). */
  readonly db: Db;
  readonly queue: CommitQueue;
  readonly accounts: SqliteAccounts;
  readonly conversations: SqliteConversations;
  readonly log: SqliteLog;
  readonly messages: SqliteMessages;
  readonly media: SqliteMedia;
  readonly audit: SqliteAudit;
  readonly privacy: SqlitePrivacy;
  readonly exports: SqliteExports;
  readonly activity: SqliteActivity;
  readonly #writer: Writer;

  constructor(options: SqliteStoreOptions) {
    const synchronous = options.synchronous ?? "FULL";
    const db = this.db = new Db(options.path, { synchronous });
    migrate(db);
    const writer = this.#writer = new Writer(options.path, synchronous);
    this.queue = new CommitQueue(
      writer,
      options.groupCommit ?? { enabled: true, maxBatch: 256, windowMs: 2 },
    );
    this.accounts = new SqliteAccounts(db, writer);
    this.conversations = new SqliteConversations(db, writer);
    this.log = new SqliteLog(db, this.queue);
    this.messages = new SqliteMessages(db, writer);
    this.media = new SqliteMedia(db, writer);
    this.audit = new SqliteAudit(db, writer);
    this.privacy = new SqlitePrivacy(db, writer, () => this.queue.drain());
    this.exports = new SqliteExports(db, writer);
    this.activity = new SqliteActivity(db, writer);
  }

  ping() {
    this.db.get("SELECT 1 AS ok");
    return Promise.resolve();
  }

  async close() {
    await this.queue.drain();
    await this.#writer.close();
    this.db.close();
  }
}

/** Opens (creating and migrating if needed) an embedded store. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
