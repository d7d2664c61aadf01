import { type Db, MongoClient, type MongoClientOptions, type ReadPreferenceMode } from "mongodb";
import type { Store } from "../store.ts";
import { MongoAccounts } from "./_accounts.ts";
import { MongoActivity } from "./_activity.ts";
import { MongoAudit } from "./_audit.ts";
import { MongoConversations } from "./_conversations.ts";
import { collections, ensureIndexes, type Mongo } from "./_db.ts";
import { MongoDrafts } from "./_drafts.ts";
import { MongoLog } from "./_event_log.ts";
import { MongoExports } from "./_exports.ts";
import { MongoJobs } from "./_jobs.ts";
import { MongoMedia } from "./_media.ts";
import { MongoMessages } from "./_messages.ts";
import { MongoModeration } from "./_moderation.ts";
import { MongoPrivacy } from "./_privacy.ts";
import { MongoPush } from "./_push.ts";
import { MongoScheduled } from "./_scheduled.ts";
import { MongoSearch } from "./_search.ts";
import { MongoArchive } from "./_archive.ts";

/** Connection settings of {@link MongoStore} (the shape of `config.mongo`). */
export interface MongoStoreOptions {
  uri: string;
  /** Database name. */
  db: string;
  appName: string;
  maxPoolSize: number;
  /** Bounds server selection, connecting, waiting for a pooled connection and each socket read. */
  timeoutMs: number;
  /** Overrides the socket read bound (0: none), for tools whose single operations run long. */
  socketTimeoutMs?: number;
  /**
   * Where pages of older history are read: `nearest` (default) lets a nearby replica answer,
   * accepting its slight lag; `primary` reads your own writes there too.
   */
  historyReads?: ReadPreferenceMode;
}

/** The driver settings for `options`: retryable reads and writes, majority writes, timeouts. */
export function clientOptions(options: MongoStoreOptions): MongoClientOptions {
  return {
    appName: options.appName,
    maxPoolSize: options.maxPoolSize,
    serverSelectionTimeoutMS: options.timeoutMs,
    connectTimeoutMS: options.timeoutMs,
    waitQueueTimeoutMS: options.timeoutMs,
    socketTimeoutMS: options.socketTimeoutMs ?? options.timeoutMs,
    retryWrites: true,
    retryReads: true,
    // Every write of a commit waits for a majority, so a failover cannot keep a commit's event
    // while rolling back a message it points at.
    writeConcern: { w: "majority" },
    readPreference: "primary",
    // Optional fields left undefined are left out, as JSON leaves them out in the SQLite adapter.
    ignoreUndefined: true,
  };
}

/**
 * The production {@link Store} on MongoDB through the official driver. Collections and indexes are
 * created on connect (idempotently). Each conversation's seq comes from one atomic `findOneAndUpdate`
 * on its document; unique indexes hold idempotency (sender + clientMsgId), the one direct
 * conversation per pair, the one current data key per user and usernames. Messages, edits, erasures
 * and reactions commit without multi-document transactions (see `commit` in `_commit.ts`); group
 * changes and new conversations use one transaction each.
 *
 * @example
 * const store = await MongoStore.connect(config.mongo!);
 */
export interface MongoStore extends Store {
  readonly kind: "mongo";
  /** The underlying database (for tools and tests). */
  readonly db: Db;
}

/** Opening a {@link MongoStore}. */
export const MongoStore = {
  /** Connects, ensures collections and indexes, and returns the store. */
  async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, clientOptions(options));
    await client.connect();
    try {
      const m = collections(client, client.db(options.db));
      await ensureIndexes(m);
      return assemble(m, options.historyReads ?? "nearest");
    } catch (err) {
      await client.close();
      throw err;
    }
  },
};

/** The sub-stores of one connection. */
function assemble(m: Mongo, historyReads: ReadPreferenceMode): MongoStore {
  return {
    kind: "mongo",
    db: m.db,
    accounts: new MongoAccounts(m),
    conversations: new MongoConversations(m),
    log: new MongoLog(m),
    messages: new MongoMessages(m, historyReads),
    media: new MongoMedia(m),
    audit: new MongoAudit(m),
    privacy: new MongoPrivacy(m),
    exports: new MongoExports(m),
    activity: new MongoActivity(m),
    jobs: new MongoJobs(m),
    scheduled: new MongoScheduled(m),
    drafts: new MongoDrafts(m),
    moderation: new MongoModeration(m),
    push: new MongoPush(m),
    search: new MongoSearch(m),
    archive: new MongoArchive(m),
    async ping() {
      await m.db.command({ ping: 1 });
    },
    async close() {
      await m.client.close();
    },
  };
}
