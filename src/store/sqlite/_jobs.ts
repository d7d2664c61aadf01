import type { JobClaim, JobKind, JobRecord, JobStore, NewJob } from "../jobs.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** Maps a `jobs` row (also used by the SQLite → MongoDB migration). */
export function toJob(r: Row): JobRecord {
  return {
    id: str(r.id),
    kind: str(r.kind),
    key: strOrNull(r.key),
    payload: JSON.parse(str(r.payload)),
    runAt: str(r.run_at),
    status: str(r.status) as JobRecord["status"],
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: strOrNull(r.lease_until),
    lastError: strOrNull(r.last_error),
    createdAt: str(r.created_at),
  };
}

/** Inserts a job inside the caller's transaction (also used by a commit that causes jobs). */
export function insertJob(db: Db, j: NewJob): "enqueued" | "exists" {
  const inserted = db.run(
    `INSERT INTO jobs (id, kind, key, payload, run_at, max_attempts, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
    j.id,
    j.kind,
    j.key ?? null,
    JSON.stringify(j.payload),
    j.runAt,
    j.maxAttempts,
    j.createdAt,
  );
  return inserted > 0 ? "enqueued" : "exists";
}

function claim(db: Db, c: JobClaim): JobRecord[] {
  if (c.kinds.length === 0 || c.limit <= 0) return [];
  return db.all(
    `UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM jobs
       WHERE status = 'pending' AND run_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
         AND kind IN (${placeholders(c.kinds.length)})
       ORDER BY run_at LIMIT ?)
     RETURNING *`,
    c.owner,
    c.until,
    c.now,
    c.now,
    ...c.kinds,
    c.limit,
  ).map(toJob).sort((a, b) => a.runAt.localeCompare(b.runAt));
}

function extend(db: Db, id: string, owner: string, until: string): boolean {
  return db.run(
    "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'pending'",
    until,
    id,
    owner,
  ) > 0;
}

function complete(db: Db, id: string, owner: string): boolean {
  return db.run("DELETE FROM jobs WHERE id = ? AND lease_owner = ?", id, owner) > 0;
}

function fail(db: Db, id: string, owner: string, o: { error: string; retryAt?: string }): boolean {
  // A retry is pending again from `retryAt`; without one the job is failed for good.
  return db.run(
    `UPDATE jobs SET status = CASE WHEN ?1 IS NULL THEN 'failed' ELSE 'pending' END,
       run_at = coalesce(?1, run_at), last_error = ?2, lease_owner = NULL, lease_until = NULL
     WHERE id = ?3 AND lease_owner = ?4 AND status = 'pending'`,
    o.retryAt ?? null,
    o.error.slice(0, 1000),
    id,
    owner,
  ) > 0;
}

/** A pending job with `key` that no live lease holds (`now`), or nothing. */
const FREE_PENDING = `key = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)`;

function reschedule(
  db: Db,
  key: string,
  o: { runAt: string; now: string; payload?: Record<string, unknown> },
): boolean {
  return db.run(
    `UPDATE jobs SET run_at = ?, payload = coalesce(?, payload), lease_owner = NULL,
       lease_until = NULL WHERE ${FREE_PENDING}`,
    o.runAt,
    o.payload ? JSON.stringify(o.payload) : null,
    key,
    o.now,
  ) > 0;
}

function cancel(db: Db, key: string, now: string): boolean {
  return db.run(`DELETE FROM jobs WHERE ${FREE_PENDING}`, key, now) > 0;
}

function getByKey(db: Db, key: string): JobRecord | null {
  const r = db.get(
    "SELECT * FROM jobs WHERE key = ? ORDER BY status = 'pending' DESC, created_at DESC LIMIT 1",
    key,
  );
  return r ? toJob(r) : null;
}

function nextRunAt(db: Db, kinds: JobKind[]): string | null {
  if (kinds.length === 0) return null;
  const r = db.get(
    `SELECT min(max(run_at, coalesce(lease_until, run_at))) AS at FROM jobs
     WHERE status = 'pending' AND kind IN (${placeholders(kinds.length)})`,
    ...kinds,
  );
  return r ? strOrNull(r.at) : null;
}

function releaseOwner(db: Db, owner: string): number {
  return db.run(
    "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ? AND status = 'pending'",
    owner,
  );
}

/** The job writes, run on the writer thread (see `_writes.ts`). */
export const jobWrites = {
  releaseOwner,
  enqueue: insertJob,
  claim,
  extend,
  complete,
  fail,
  reschedule,
  cancel,
};

/** The SQLite {@link JobStore}: claims are single statements on the writer thread, so atomic. */
export function sqliteJobs(db: Db, writer: Writer): JobStore {
  return { ...bindReads(db, { getByKey, nextRunAt }), ...bindWrites(writer, jobWrites) };
}
