import { AppError } from "../../domain/errors.ts";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

/**
 * One SQLite connection with a prepared-statement cache and nestable transactions (the outermost is
 * `BEGIN IMMEDIATE`, so a writer never has to upgrade its lock and deadlock another process; inner ones
 * are savepoints).
 */
export class Db {
  readonly raw: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #depth = 0;

  constructor(path: string, options: { synchronous: "FULL" | "NORMAL"; busyTimeoutMs?: number }) {
    this.raw = new DatabaseSync(path);
    const busyMs = options.busyTimeoutMs ?? 10_000;
    this.raw.exec(`PRAGMA busy_timeout = ${busyMs}`);
    execWhileLocked(this.raw, "PRAGMA journal_mode = WAL", busyMs);
    this.raw.exec(`PRAGMA synchronous = ${options.synchronous}`);
    // Deleted rows are overwritten, so erased data does not linger in free pages.
    this.raw.exec("PRAGMA secure_delete = ON");
    this.raw.exec("PRAGMA temp_store = MEMORY");
    this.raw.exec("PRAGMA foreign_keys = OFF");
  }

  statement(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.raw.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  /** Runs a write and returns how many rows it changed. */
  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.statement(sql).run(...params).changes);
  }

  /** Runs `fn` in a transaction (or a savepoint when nested); rolls back if it throws. */
  transaction<T>(fn: () => T): T {
    const name = `sp${this.#depth}`;
    this.raw.exec(this.#depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      this.#depth--;
      this.raw.exec(this.#depth === 0 ? "COMMIT" : `RELEASE ${name}`);
      return result;
    } catch (err) {
      this.#depth--;
      if (this.#depth === 0) this.raw.exec("ROLLBACK");
      else this.raw.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    }
  }

  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}

/**
 * Runs `sql`, retrying for up to `timeoutMs` while another connection holds the lock it needs. The
 * switch of a new file to WAL takes an exclusive lock without waiting on the busy timeout, so
 * instances opening one fresh file together would otherwise fail at start.
 */
function execWhileLocked(db: DatabaseSync, sql: string, timeoutMs: number): void {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return db.exec(sql);
    } catch (err) {
      if (!/database is locked/i.test(String(err)) || Date.now() > until) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** Placeholders for an `IN (...)` list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}

export function str(v: SQLInputValue): string {
  return v as string;
}

export function strOrNull(v: SQLInputValue): string | null {
  return v === null || v === undefined ? null : (v as string);
}

export function num(v: SQLInputValue): number {
  return Number(v);
}

export function bytes(v: SQLInputValue): Uint8Array {
  return v as Uint8Array;
}

/**
 * Runs synchronous SQLite work on the reading connection and returns it as a settled promise
 * (errors become rejections), so adapter methods keep the port's async shape.
 */
export function read<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(whenBusy(err));
  }
}

/**
 * A lock another process held past the busy timeout (an instance sharing the file, paused
 * mid-write) is not a fault of this request: a 503 `unavailable` with `Retry-After`, never a 500.
 */
export function whenBusy(err: unknown): unknown {
  if (err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message)) {
    return new AppError(
      503,
      "unavailable",
      "Service unavailable",
      "The database is busy; try again shortly",
      { retryAfterSeconds: 2 },
    );
  }
  return err;
}
