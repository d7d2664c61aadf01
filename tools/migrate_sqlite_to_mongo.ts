// Moves an embedded SQLite deployment into MongoDB:
//   MONGODB_URI=... deno task migrate:sqlite-to-mongo [--from PATH] [--batch N] [--restart]
// Stop the server first. Reads `${DATA_DIR}/parley.db` (or --from) table by table in primary-key
// order, N rows at a time, and upserts each row into the collection of the same name by its id, so
// nothing is held in memory beyond one batch. After every batch the position is saved in the
// `migration_progress` collection: re-running continues where a failed run stopped (--restart copies
// everything again; upserts make that harmless). At the end it compares the row count of every table
// with the document count of its collection, prints them, and exits non-zero on any mismatch.
import type { Db } from "mongodb";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { ConfigError, loadConfig } from "../src/config.ts";
import type { EventRecord } from "../src/domain/types.ts";
import {
  auditDoc,
  conversationDoc,
  eventDoc,
  memberDoc,
  messageDoc,
  sessionDoc,
  userDoc,
  userKeyDoc,
} from "../src/store/mongo/codec.ts";
import { MongoStore } from "../src/store/mongo/mod.ts";
import {
  type ActivityDayDoc,
  type DailyCountDoc,
  type DataExportDoc,
  hiddenKey,
  type HiddenMessageDoc,
  type ReactionDoc,
  reactionKey,
  type ReceiptMarkDoc,
  receiptMarkKey,
  type RefreshTokenDoc,
} from "../src/store/mongo/schema.ts";
// The SQLite adapter's own row readers, so a row means here exactly what it means there.
import {
  toConversation,
  toMember,
  toMessage,
  toSession,
  toUser,
  toUserKey,
} from "../src/store/sqlite/_rows.ts";
import { toMedia } from "../src/store/sqlite/_media.ts";
import type { MediaRecord } from "../src/domain/media.ts";
import type { DailyCounter, ExportStatus } from "../src/domain/privacy.ts";

function mediaDoc(m: MediaRecord): Doc {
  const { id, ...rest } = m;
  return { _id: id, ...rest } as Doc;
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

/** A document as written: every one has our string id. */
export type Doc = { _id: string };

/** How one SQLite table becomes the MongoDB collection of the same name. */
export interface TableSpec {
  table: string;
  /** The primary-key columns: the copy order and the resume position. */
  key: string[];
  toDoc(row: Row): Doc;
}

const text = (v: SQLInputValue) => v as string;
const textOrNull = (v: SQLInputValue) => (v === null || v === undefined ? null : (v as string));

/** Every table of the embedded schema, parents before children. */
export const TABLES: TableSpec[] = [
  {
    table: "users",
    key: ["id"],
    // erasedAt says a completed erasure is complete (else the sweep would resume it once more).
    toDoc: (r) => ({
      ...userDoc(toUser(r), text(r.password_hash)),
      erasedAt: textOrNull(r.erased_at),
    }),
  },
  { table: "sessions", key: ["id"], toDoc: (r) => sessionDoc(toSession(r)) },
  {
    table: "refresh_tokens",
    key: ["hash"],
    toDoc: (r): RefreshTokenDoc => ({
      _id: text(r.hash),
      sessionId: text(r.session_id),
      createdAt: text(r.created_at),
      usedAt: textOrNull(r.used_at),
    }),
  },
  {
    table: "user_keys",
    key: ["id"],
    toDoc: (r) => userKeyDoc(toUserKey(r), textOrNull(r.retired_at)),
  },
  {
    table: "conversations",
    key: ["id"],
    toDoc: (r) => conversationDoc(toConversation(r), textOrNull(r.direct_key)),
  },
  { table: "members", key: ["conversation_id", "user_id"], toDoc: (r) => memberDoc(toMember(r)) },
  {
    table: "events",
    key: ["conversation_id", "seq"],
    // seqAt 0: a migrated event is long settled, never a commit in flight.
    toDoc: (r) => eventDoc(toEventRecord(r), 0),
  },
  { table: "messages", key: ["id"], toDoc: (r) => messageDoc(toMessage(r)) },
  {
    table: "hidden_messages",
    key: ["user_id", "message_id"],
    toDoc: (r): HiddenMessageDoc => ({
      _id: hiddenKey(text(r.user_id), text(r.message_id)),
      userId: text(r.user_id),
      messageId: text(r.message_id),
      conversationId: text(r.conversation_id),
    }),
  },
  {
    table: "reactions",
    key: ["message_id", "user_id", "emoji"],
    toDoc: (r): ReactionDoc => {
      const reaction = {
        messageId: text(r.message_id),
        userId: text(r.user_id),
        emoji: text(r.emoji),
        createdAt: text(r.created_at),
      };
      return { _id: reactionKey(reaction), ...reaction };
    },
  },
  {
    table: "receipt_marks",
    key: ["conversation_id", "user_id", "kind", "seq"],
    toDoc: (r): ReceiptMarkDoc => {
      const mark = {
        conversationId: text(r.conversation_id),
        userId: text(r.user_id),
        kind: text(r.kind) as "read" | "delivered",
        seq: Number(r.seq),
        at: text(r.at),
      };
      return { _id: receiptMarkKey(mark), ...mark };
    },
  },
  { table: "media", key: ["id"], toDoc: (r) => mediaDoc(toMedia(r)) },
  {
    table: "data_exports",
    key: ["id"],
    toDoc: (r): DataExportDoc => ({
      _id: text(r.id),
      userId: text(r.user_id),
      status: text(r.status) as ExportStatus,
      keyId: textOrNull(r.key_id),
      size: r.size === null ? null : Number(r.size),
      failureReason: textOrNull(r.failure_reason),
      leaseOwner: textOrNull(r.lease_owner),
      leaseUntil: textOrNull(r.lease_until),
      createdAt: text(r.created_at),
      updatedAt: text(r.updated_at),
      completedAt: textOrNull(r.completed_at),
      expiresAt: text(r.expires_at),
    }),
  },
  {
    table: "activity_days",
    key: ["day", "user_id"],
    toDoc: (r): ActivityDayDoc => ({
      _id: `${text(r.day)}:${text(r.user_id)}`,
      day: text(r.day),
      userId: text(r.user_id),
    }),
  },
  {
    table: "daily_counts",
    key: ["day", "metric"],
    toDoc: (r): DailyCountDoc => ({
      _id: `${text(r.day)}|${text(r.metric)}`,
      day: text(r.day),
      metric: text(r.metric) as DailyCounter,
      value: Number(r.value),
    }),
  },
  {
    table: "audit_log",
    key: ["id"],
    toDoc: (r) =>
      auditDoc({
        id: text(r.id),
        at: text(r.at),
        action: text(r.action),
        actorId: textOrNull(r.actor_id),
        targetId: textOrNull(r.target_id),
        ip: textOrNull(r.ip),
        userAgent: textOrNull(r.user_agent),
        details: JSON.parse(text(r.details)),
      }),
  },
];

function toEventRecord(r: Row): EventRecord {
  return {
    conversationId: text(r.conversation_id),
    seq: Number(r.seq),
    event: text(r.event) as EventRecord["event"],
    actorId: textOrNull(r.actor_id),
    messageId: textOrNull(r.message_id),
    data: JSON.parse(text(r.data)),
    createdAt: text(r.created_at),
  };
}

/**
 * The rows of one table after the key position `after` (null: from the start), `size` at a time,
 * each batch with the key of its last row. Only one batch is in memory at once.
 */
export function* batches(
  db: DatabaseSync,
  spec: TableSpec,
  options: { after: SQLInputValue[] | null; size: number },
): Generator<{ rows: Row[]; last: SQLInputValue[] }> {
  const { after, size } = options;
  const cols = spec.key.join(", ");
  const marks = spec.key.map(() => "?").join(", ");
  const from = db.prepare(
    `SELECT * FROM ${spec.table} WHERE (${cols}) > (${marks}) ORDER BY ${cols} LIMIT ?`,
  );
  const start = db.prepare(`SELECT * FROM ${spec.table} ORDER BY ${cols} LIMIT ?`);
  let position = after;
  while (true) {
    const rows = (position ? from.all(...position, size) : start.all(size)) as Row[];
    if (rows.length === 0) return;
    const last = rows[rows.length - 1];
    position = spec.key.map((k) => last[k]);
    yield { rows, last: position };
    if (rows.length < size) return;
  }
}

/** Where the copy of one table stands. */
export interface Progress {
  table: string;
  /** Key of the last row copied; null before the first batch. */
  after: SQLInputValue[] | null;
  copied: number;
  done: boolean;
}

/** Where the rows go and where the progress is kept (MongoDB, or memory in tests). */
export interface MigrationTarget {
  progress(table: string): Promise<Progress | null>;
  saveProgress(progress: Progress): Promise<void>;
  clearProgress(): Promise<void>;
  /** Inserts or replaces each document by `_id`. */
  upsert(collection: string, docs: Doc[]): Promise<void>;
  count(collection: string): Promise<number>;
}

/** The row count of a table next to the document count of its collection. */
export interface CountCheck {
  table: string;
  source: number;
  target: number;
}

/**
 * Copies every table (continuing from saved progress unless `restart`), then returns the count of
 * each table and its collection. Re-running after a failure copies only what was not yet recorded
 * as copied; a batch copied but not recorded is upserted again, which changes nothing.
 */
export async function migrate(
  source: DatabaseSync,
  target: MigrationTarget,
  options: { batchSize: number; restart?: boolean; log?: (line: string) => void },
): Promise<CountCheck[]> {
  const log = options.log ?? (() => {});
  if (options.restart) await target.clearProgress();
  for (const spec of TABLES) {
    const saved = await target.progress(spec.table);
    if (saved?.done) {
      log(`${spec.table}: already copied (${saved.copied} rows)`);
      continue;
    }
    const progress: Progress = saved ?? { table: spec.table, after: null, copied: 0, done: false };
    if (saved) log(`${spec.table}: resuming after ${saved.copied} rows`);
    for (const batch of batches(source, spec, { after: progress.after, size: options.batchSize })) {
      await target.upsert(spec.table, batch.rows.map(spec.toDoc));
      progress.after = batch.last;
      progress.copied += batch.rows.length;
      await target.saveProgress(progress);
    }
    progress.done = true;
    await target.saveProgress(progress);
    log(`${spec.table}: copied ${progress.copied} rows`);
  }
  const checks: CountCheck[] = [];
  for (const spec of TABLES) {
    const row = source.prepare(`SELECT count(*) AS n FROM ${spec.table}`).get() as { n: number };
    checks.push({
      table: spec.table,
      source: Number(row.n),
      target: await target.count(spec.table),
    });
  }
  return checks;
}

const PROGRESS = "migration_progress";

/** The MongoDB target: bulk upserts by `_id`, progress in `migration_progress`. */
export function mongoTarget(db: Db): MigrationTarget {
  const progress = db.collection<Progress & { _id: string }>(PROGRESS);
  return {
    async progress(table) {
      const d = await progress.findOne({ _id: table });
      return d ? { table: d.table, after: d.after, copied: d.copied, done: d.done } : null;
    },
    async saveProgress(p) {
      await progress.replaceOne({ _id: p.table }, { ...p }, { upsert: true });
    },
    async clearProgress() {
      await progress.deleteMany({});
    },
    async upsert(collection, docs) {
      if (docs.length === 0) return;
      await db.collection<Doc>(collection).bulkWrite(
        docs.map((doc) => ({
          replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
        })),
        { ordered: false },
      );
    },
    async count(collection) {
      return await db.collection(collection).countDocuments({});
    },
  };
}

const USAGE = "usage: deno task migrate:sqlite-to-mongo [--from PATH] [--batch N] [--restart]";

/** Bad input: reported as one line on stderr with a non-zero exit. */
class CliError extends Error {
  override name = "CliError";
}

function parseArgs(argv: string[]): { from?: string; batch: number; restart: boolean } | "help" {
  const out = { from: undefined as string | undefined, batch: 500, restart: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CliError(`${flag} needs a value; ${USAGE}`);
      return v;
    };
    if (flag === "--help" || flag === "-h") return "help";
    else if (flag === "--restart") out.restart = true;
    else if (flag === "--from") out.from = value();
    else if (flag === "--batch") {
      out.batch = Number(value());
      if (!Number.isInteger(out.batch) || out.batch < 1 || out.batch > 100_000) {
        throw new CliError(`--batch must be an integer from 1 to 100000; ${USAGE}`);
      }
    } else throw new CliError(`unknown argument ${JSON.stringify(argv[i])}; ${USAGE}`);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig(Deno.env.toObject());
  if (!config.mongo) throw new CliError("MONGODB_URI is not set: there is nowhere to migrate to");
  const path = args.from ?? `${config.dataDir}/parley.db`;
  try {
    await Deno.stat(path);
  } catch {
    throw new CliError(`no SQLite database at ${path} (set DATA_DIR or pass --from)`);
  }
  const source = new DatabaseSync(path);
  // Counting a large collection may take longer than a request should: no socket read bound.
  const store = await MongoStore.connect({ ...config.mongo, socketTimeoutMs: 0 });
  try {
    const checks = await migrate(source, mongoTarget(store.db), {
      batchSize: args.batch,
      restart: args.restart,
      log: (line) => console.log(line),
    });
    const bad = checks.filter((c) => c.source !== c.target);
    for (const c of checks) {
      console.log(
        `${c.source === c.target ? "ok  " : "DIFF"} ${
          c.table.padEnd(16)
        } sqlite ${c.source}  mongo ${c.target}`,
      );
    }
    if (bad.length > 0) {
      console.error(`migration verification failed: ${bad.map((c) => c.table).join(", ")} differ`);
      return 1;
    }
    console.log(`migrated ${path} into ${config.mongo.db}`);
    return 0;
  } finally {
    source.close();
    await store.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      console.error(err.message);
      Deno.exit(2);
    }
    // What was copied is recorded: running the command again continues from there.
    console.error(
      `migration failed (re-run to continue): ${err instanceof Error ? err.message : err}`,
    );
    Deno.exit(1);
  }
}
