/** What a job is for; each kind has one handler in the runner. */
export type JobKind = string;

/** A job to run later (or now): enqueued on its own or in the same commit as its cause. */
export interface NewJob {
  id: string;
  kind: JobKind;
  /**
   * At most one pending job per key (a scheduled message's job is `scheduled:<id>`): enqueueing a key
   * that is still pending replaces nothing and reports `exists`.
   */
  key?: string;
  /** Small JSON arguments: ids, never user text (that lives, encrypted, with the job's subject). */
  payload: Record<string, unknown>;
  /** When it may run first. */
  runAt: string;
  /** Runs tried before it is given up (`failed`). */
  maxAttempts: number;
  createdAt: string;
}

/** A stored job. */
export interface JobRecord extends Omit<NewJob, "key"> {
  key: string | null;
  status: "pending" | "failed";
  attempts: number;
  /** The instance holding it and until when; a lapsed lease is free again. */
  leaseOwner: string | null;
  leaseUntil: string | null;
  lastError: string | null;
}

/** A claim request: who takes jobs, for how long, and how many. */
export interface JobClaim {
  owner: string;
  now: string;
  until: string;
  limit: number;
  /** Only these kinds (the ones this instance has handlers for). */
  kinds: JobKind[];
}

/**
 * Durable jobs: enqueued (on their own, or in the same commit as their cause through
 * `Change.jobs`), claimed with a lease by any instance, retried with backoff, removed when done.
 * Part of {@link import("./store.ts").Store}.
 *
 * Guarantees: a job is held by at most one live lease at a time (claims are atomic); a lease that
 * lapses (its instance died) makes the job claimable again; only the lease holder can finish,
 * retry or extend it. Together with idempotent handlers this makes each job's effect happen exactly
 * once across instances and restarts.
 */
export interface JobStore {
  /** Stores a job; `exists` when its key is already pending (nothing changes then). */
  enqueue(job: NewJob): Promise<"enqueued" | "exists">;
  /**
   * Atomically takes up to `limit` due jobs (pending, `runAt <= now`, lease free or lapsed) of the
   * given kinds, oldest `runAt` first, leasing them to `owner` until `until` and counting the attempt.
   */
  claim(claim: JobClaim): Promise<JobRecord[]>;
  /** Moves the lease of a job `owner` still holds to `until`; false when it is no longer theirs. */
  extend(id: string, owner: string, until: string): Promise<boolean>;
  /** Removes a job `owner` holds (it is done); false when it is no longer theirs. */
  complete(id: string, owner: string): Promise<boolean>;
  /**
   * Ends an attempt that failed: with `retryAt`, the job is pending again from then (lease released);
   * without, it is `failed` for good. False when `owner` no longer holds it.
   */
  fail(id: string, owner: string, options: { error: string; retryAt?: string }): Promise<boolean>;
  /**
   * Changes when a pending job with `key` runs (and its payload), unless a live lease holds it now.
   * False when there is no such pending job or it is running.
   */
  reschedule(
    key: string,
    options: { runAt: string; now: string; payload?: Record<string, unknown> },
  ): Promise<boolean>;
  /** Removes the pending job with `key` unless a live lease holds it; false otherwise. */
  cancel(key: string, now: string): Promise<boolean>;
  /**
   * Frees every lease `owner` holds (an instance starting with the id of one that died takes its
   * jobs back at once instead of waiting for the leases to lapse); how many.
   */
  releaseOwner(owner: string): Promise<number>;
  /** The job with `key`, if any (pending or failed). */
  getByKey(key: string): Promise<JobRecord | null>;
  /**
   * When the next pending job of `kinds` can be claimed (its `runAt`, or later its lease's end while
   * a live lease holds it), for sleeping until then; null when there is none.
   */
  nextRunAt(kinds: JobKind[]): Promise<string | null>;
}
