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
import { MongoStore } from "../src/store/mongo/mod.ts";
import { type Doc, type Row, TABLES, type TableSpec } from "./_mongo_tables.ts";

export { type Doc, type Row, TABLES, type TableSpec };

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
  const path = args.from ?? config.store.sqlitePath ?? `${config.dataDir}/parley.db`;
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
