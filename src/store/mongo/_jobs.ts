import type { Filter, UpdateFilter } from "mongodb";
import type { JobClaim, JobKind, JobRecord, JobStore, NewJob } from "../jobs.ts";
import { isDuplicateKey, type Mongo, partialEq, type Session } from "./_db.ts";
import type { JobDoc } from "./schema.ts";

/** The longest `lastError` kept (as the SQLite adapter). */
const MAX_ERROR = 1000;

/** The stored document of a new job: exactly its fields, pending, never tried, no lease. */
function jobDoc(j: NewJob): JobDoc {
  return {
    _id: j.id,
    kind: j.kind,
    key: j.key ?? null,
    payload: j.payload,
    runAt: j.runAt,
    status: "pending",
    attempts: 0,
    maxAttempts: j.maxAttempts,
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
    createdAt: j.createdAt,
  };
}

function toJob(d: JobDoc): JobRecord {
  return {
    id: d._id,
    kind: d.kind,
    key: d.key ?? null,
    payload: d.payload,
    runAt: d.runAt,
    status: d.status,
    attempts: d.attempts,
    maxAttempts: d.maxAttempts,
    leaseOwner: d.leaseOwner ?? null,
    leaseUntil: d.leaseUntil ?? null,
    lastError: d.lastError ?? null,
    createdAt: d.createdAt,
  };
}

/** No live lease at `now`: never leased, released, or lapsed. */
function leaseFree(now: string): Filter<JobDoc> {
  return { $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] };
}

/** The pending job with `key` that no live lease holds at `now` (the unique partial index's filter). */
function freePending(key: string, now: string): Filter<JobDoc> {
  return { key: partialEq(key), status: "pending", ...leaseFree(now) };
}

async function enqueue(m: Mongo, job: NewJob): Promise<"enqueued" | "exists"> {
  try {
    await m.jobs.insertOne(jobDoc(job));
    return "enqueued";
  } catch (err) {
    // The same id, or a pending job with the same key: nothing changes.
    if (isDuplicateKey(err)) return "exists";
    throw err;
  }
}

/**
 * Stores a job a commit causes, with the commit's session when it has one. An upsert by `_id`, so a
 * retried commit finds its own job there. A pending job with the same key already there means
 * `exists`, as in the SQLite adapter (the commit goes on without it): inside a transaction that is
 * read first, since a duplicate-key error there would abort the whole transaction (a concurrent
 * insert of the key is a write conflict, and the driver retries the transaction); without one the
 * unique index answers, race-free.
 */
export async function insertJob(
  m: Mongo,
  job: NewJob,
  session: Session,
): Promise<"enqueued" | "exists"> {
  const { _id, ...fields } = jobDoc(job);
  if (session && job.key !== undefined) {
    const taken = await m.jobs.findOne(
      { key: partialEq(job.key), status: "pending", _id: { $ne: _id } },
      { projection: { _id: 1 }, session },
    );
    if (taken) return "exists";
  }
  try {
    const r = await m.jobs.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true, session });
    return r.upsertedCount > 0 ? "enqueued" : "exists";
  } catch (err) {
    if (!session && isDuplicateKey(err)) return "exists";
    throw err;
  }
}

/**
 * Takes due jobs one atomic `findOneAndUpdate` at a time (no transaction): each re-checks the lease
 * as it writes, so a job goes to exactly one of several racing claimers. Stops at `limit` or when
 * none is left.
 */
async function claim(m: Mongo, c: JobClaim): Promise<JobRecord[]> {
  if (c.kinds.length === 0 || c.limit <= 0) return [];
  const filter: Filter<JobDoc> = {
    status: "pending",
    runAt: { $lte: c.now },
    kind: { $in: c.kinds },
    ...leaseFree(c.now),
  };
  const update: UpdateFilter<JobDoc> = {
    $set: { leaseOwner: c.owner, leaseUntil: c.until },
    $inc: { attempts: 1 },
  };
  const claimed: JobRecord[] = [];
  while (claimed.length < c.limit) {
    const d = await m.jobs.findOneAndUpdate(filter, update, {
      sort: { runAt: 1 },
      returnDocument: "after",
    });
    if (!d) break;
    claimed.push(toJob(d));
  }
  // Racing claimers may interleave: the answer is still oldest first.
  return claimed.sort((a, b) => a.runAt.localeCompare(b.runAt));
}

async function extend(m: Mongo, id: string, owner: string, until: string): Promise<boolean> {
  const r = await m.jobs.updateOne(
    { _id: id, leaseOwner: owner, status: "pending" },
    { $set: { leaseUntil: until } },
  );
  return r.matchedCount > 0;
}

async function complete(m: Mongo, id: string, owner: string): Promise<boolean> {
  return (await m.jobs.deleteOne({ _id: id, leaseOwner: owner })).deletedCount > 0;
}

/** With `retryAt`, pending again from then; without, failed for good. The lease is released. */
async function fail(
  m: Mongo,
  id: string,
  owner: string,
  o: { error: string; retryAt?: string },
): Promise<boolean> {
  const set: Partial<JobDoc> = {
    lastError: o.error.slice(0, MAX_ERROR),
    leaseOwner: null,
    leaseUntil: null,
  };
  if (o.retryAt !== undefined) set.runAt = o.retryAt;
  else set.status = "failed";
  const r = await m.jobs.updateOne(
    { _id: id, leaseOwner: owner, status: "pending" },
    { $set: set },
  );
  return r.matchedCount > 0;
}

async function reschedule(
  m: Mongo,
  key: string,
  o: { runAt: string; now: string; payload?: Record<string, unknown> },
): Promise<boolean> {
  const set: Partial<JobDoc> = { runAt: o.runAt, leaseOwner: null, leaseUntil: null };
  if (o.payload) set.payload = o.payload;
  const r = await m.jobs.updateOne(freePending(key, o.now), { $set: set });
  return r.matchedCount > 0;
}

async function cancel(m: Mongo, key: string, now: string): Promise<boolean> {
  return (await m.jobs.deleteOne(freePending(key, now))).deletedCount > 0;
}

/** The pending job with `key`, else the newest failed one. */
async function getByKey(m: Mongo, key: string): Promise<JobRecord | null> {
  const pending = await m.jobs.findOne({ key: partialEq(key), status: "pending" });
  if (pending) return toJob(pending);
  const d = await m.jobs.findOne({ key: partialEq(key) }, { sort: { createdAt: -1, _id: -1 } });
  return d ? toJob(d) : null;
}

async function nextRunAt(m: Mongo, kinds: JobKind[]): Promise<string | null> {
  if (kinds.length === 0) return null;
  // A job under a live lease is claimable only when the lease ends.
  const [d] = await m.jobs.aggregate<{ at: string }>([
    { $match: { status: "pending", kind: { $in: kinds } } },
    { $project: { at: { $max: ["$runAt", { $ifNull: ["$leaseUntil", "$runAt"] }] } } },
    { $sort: { at: 1 } },
    { $limit: 1 },
  ]).toArray();
  return d?.at ?? null;
}

/**
 * The MongoDB {@link JobStore}: one document per job, a unique partial index keeping one pending job
 * per key, and claims, lease changes and removals that are each one atomic single-document write, so
 * a job is held by at most one live lease without multi-document transactions.
 */
export class MongoJobs implements JobStore {
  constructor(private readonly m: Mongo) {}

  enqueue(job: NewJob) {
    return enqueue(this.m, job);
  }
  claim(request: JobClaim) {
    return claim(this.m, request);
  }
  extend(id: string, owner: string, until: string) {
    return extend(this.m, id, owner, until);
  }
  complete(id: string, owner: string) {
    return complete(this.m, id, owner);
  }
  fail(id: string, owner: string, options: { error: string; retryAt?: string }) {
    return fail(this.m, id, owner, options);
  }
  reschedule(
    key: string,
    options: { runAt: string; now: string; payload?: Record<string, unknown> },
  ) {
    return reschedule(this.m, key, options);
  }
  cancel(key: string, now: string) {
    return cancel(this.m, key, now);
  }
  getByKey(key: string) {
    return getByKey(this.m, key);
  }
  async releaseOwner(owner: string): Promise<number> {
    const r = await this.m.jobs.updateMany(
      { leaseOwner: owner, status: "pending" },
      { $set: { leaseOwner: null, leaseUntil: null } },
    );
    return r.modifiedCount;
  }
  nextRunAt(kinds: JobKind[]) {
    return nextRunAt(this.m, kinds);
  }
}
