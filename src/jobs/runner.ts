import { newId } from "../ids.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { JobKind, JobRecord, NewJob, Store } from "../store/store.ts";

/**
 * Does one job (a thrown error with a numeric `retryAfterMs` delays the retry at least that long).
 * It may run more than once (an instance that died mid-job, a lease that lapsed), so
 * its effect must be idempotent; the runner makes sure no two instances hold it at the same time.
 * `signal` aborts when the runner shuts down or the lease could not be kept.
 */
export type JobHandler = (job: JobRecord, signal: AbortSignal) => Promise<void>;

/** How jobs of one kind run. */
export interface JobKindOptions {
  /** Jobs of this kind running at once on this instance (default 4). */
  concurrency?: number;
  /**
   * How long a claim holds before another instance may take the job over (default 10 s). The lease is
   * renewed every third of it while the handler runs, so it bounds only how late a job whose instance
   * died is picked up again.
   */
  leaseMs?: number;
  /** Delay before retry number `attempt` (1-based); default 1 s, 4 s, 16 s… capped at 5 minutes. */
  backoffMs?: (attempt: number) => number;
  /** Called once when a job is given up (its last attempt failed): tell the user, clean up. */
  onGiveUp?: (job: JobRecord, error: unknown) => Promise<void>;
}

/** A job to enqueue: what, when, and optionally a key that keeps it unique while pending. */
export interface JobRequest {
  kind: JobKind;
  payload: Record<string, unknown>;
  runAt?: Date;
  key?: string;
  maxAttempts?: number;
}

interface Registered extends Required<Omit<JobKindOptions, "onGiveUp">> {
  handler: JobHandler;
  onGiveUp?: JobKindOptions["onGiveUp"];
  running: number;
}

const DEFAULT_MAX_ATTEMPTS = 5;

/** Builds the stored form of a job request (for `Change.jobs` or {@link JobRunner.enqueue}). */
export function newJob(request: JobRequest, now = new Date()): NewJob {
  const job: NewJob = {
    id: newId(now.getTime()),
    kind: request.kind,
    payload: request.payload,
    runAt: (request.runAt ?? now).toISOString(),
    maxAttempts: request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    createdAt: now.toISOString(),
  };
  if (request.key) job.key = request.key;
  return job;
}

/**
 * The one durable job runner: every instance runs one, and together they run each job exactly once
 * (a job is enqueued in the same commit as its cause, claimed with a lease by whichever instance
 * finds it due first, retried with exponential backoff, given up after `maxAttempts`). An instance
 * sleeps until the earliest due job or `pollMs`, whichever comes first, and is woken at once when it
 * enqueues something itself; jobs another instance enqueued are found within `pollMs`.
 *
 * @example
 * runner.register("message.expire", (job) => expire(job.payload.messageId as string));
 * await runner.enqueue({ kind: "message.expire", payload: { messageId }, runAt: expiresAt });
 */
export class JobRunner {
  #kinds = new Map<JobKind, Registered>();
  #running = new Map<string, { done: Promise<void>; abort: AbortController }>();
  #wake?: () => void;
  #loop?: Promise<void>;
  #closed = false;
  readonly #outcomes;

  constructor(
    private readonly deps: {
      store: Pick<Store, "jobs">;
      instanceId: string;
      logger: Logger;
      metrics: MetricsRegistry;
      /** Longest sleep between looks for due jobs (default 500 ms). */
      pollMs?: number;
    },
  ) {
    this.#outcomes = deps.metrics.counter(
      "parley_jobs_total",
      "Jobs run by kind and outcome (done, retried, failed)",
    );
    deps.metrics.gauge("parley_jobs_running", "Jobs running on this instance").collect(
      () => [[{}, this.#running.size]],
    );
  }

  /** Registers the handler of a kind; jobs of kinds with no handler here are left to others. */
  register(kind: JobKind, handler: JobHandler, options: JobKindOptions = {}): void {
    this.#kinds.set(kind, {
      handler,
      concurrency: options.concurrency ?? 4,
      leaseMs: options.leaseMs ?? 10_000,
      backoffMs: options.backoffMs ?? ((n) => Math.min(1000 * 4 ** (n - 1), 300_000)),
      onGiveUp: options.onGiveUp,
      running: 0,
    });
  }

  /** Enqueues a job on its own (not part of a commit) and wakes this runner if it is due soon. */
  async enqueue(request: JobRequest): Promise<"enqueued" | "exists"> {
    const job = newJob(request);
    const outcome = await this.deps.store.jobs.enqueue(job);
    this.wake();
    return outcome;
  }

  /** Looks for due jobs now (after this instance committed some). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Starts looking for due jobs, first taking back the jobs a dead instance with this instance's id
   * still held (their leases would otherwise have to lapse).
   */
  start(): void {
    this.#loop ??= this.deps.store.jobs.releaseOwner(this.deps.instanceId).then(
      () => this.#run(),
      (err) => {
        this.deps.logger.warn("job leases could not be released", { "error.message": String(err) });
        return this.#run();
      },
    );
  }

  /**
   * Stops claiming, aborts running handlers and hands their jobs back (due at once), so another
   * instance takes them over without waiting for the leases to lapse.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.wake();
    await this.#loop;
    for (const r of this.#running.values()) r.abort.abort();
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  async #run(): Promise<void> {
    const pollMs = this.deps.pollMs ?? 500;
    while (!this.#closed) {
      let sleepMs = pollMs;
      try {
        sleepMs = await this.#tick(pollMs);
      } catch (err) {
        this.deps.logger.warn("job poll failed", { "error.message": String(err) });
      }
      if (this.#closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(5, sleepMs));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  /** Claims and starts what is due; returns how long to sleep before looking again. */
  async #tick(pollMs: number): Promise<number> {
    const kinds = [...this.#kinds.keys()];
    const next = await this.deps.store.jobs.nextRunAt(kinds);
    const now = Date.now();
    if (next === null) return pollMs;
    const dueIn = Date.parse(next) - now;
    if (dueIn > 0) return Math.min(pollMs, dueIn);
    let full = false;
    for (const [kind, k] of this.#kinds) {
      const free = k.concurrency - k.running;
      if (free <= 0 || this.#closed) continue;
      const jobs = await this.deps.store.jobs.claim({
        owner: this.deps.instanceId,
        now: new Date(now).toISOString(),
        until: new Date(now + k.leaseMs).toISOString(),
        limit: free,
        kinds: [kind],
      });
      for (const job of jobs) this.#start(job, k);
      if (jobs.length === free) full = true;
    }
    // A kind that took all it could may have more due: look again soon, not after a full poll.
    return full ? 50 : pollMs;
  }

  #start(job: JobRecord, k: Registered): void {
    k.running++;
    const abort = new AbortController();
    const owner = this.deps.instanceId;
    const renew = setInterval(() => {
      const until = new Date(Date.now() + k.leaseMs).toISOString();
      this.deps.store.jobs.extend(job.id, owner, until).then(
        (held) => {
          if (!held) abort.abort(new Error("the job's lease was lost"));
        },
        (err) =>
          this.deps.logger.warn("job lease renewal failed", { "error.message": String(err) }),
      );
    }, Math.max(100, k.leaseMs / 3));
    const done = (async () => {
      try {
        await k.handler(job, abort.signal);
        await this.deps.store.jobs.complete(job.id, owner);
        this.#outcomes.inc({ kind: job.kind, outcome: "done" });
      } catch (err) {
        await this.#failed(job, k, err, abort.signal.aborted && this.#closed);
      } finally {
        clearInterval(renew);
        k.running--;
        this.#running.delete(job.id);
        this.wake();
      }
    })();
    this.#running.set(job.id, { done, abort });
  }

  async #failed(job: JobRecord, k: Registered, err: unknown, shuttingDown: boolean): Promise<void> {
    const owner = this.deps.instanceId;
    const error = err instanceof Error ? err.message : String(err);
    try {
      if (shuttingDown) {
        // Not the job's fault: hand it back, due now, without spending an attempt's backoff.
        await this.deps.store.jobs.fail(job.id, owner, {
          error,
          retryAt: new Date().toISOString(),
        });
        return;
      }
      if (job.attempts < job.maxAttempts) {
        // A handler may ask for a later retry than the backoff (a service's Retry-After).
        const asked = (err as { retryAfterMs?: unknown })?.retryAfterMs;
        const wait = Math.max(k.backoffMs(job.attempts), typeof asked === "number" ? asked : 0);
        const retryAt = new Date(Date.now() + wait).toISOString();
        await this.deps.store.jobs.fail(job.id, owner, { error, retryAt });
        this.#outcomes.inc({ kind: job.kind, outcome: "retried" });
        this.deps.logger.warn("job failed, will retry", {
          "parley.job.kind": job.kind,
          "parley.job.id": job.id,
          "parley.job.attempt": job.attempts,
          "error.message": error,
        });
        return;
      }
      await this.deps.store.jobs.fail(job.id, owner, { error });
      this.#outcomes.inc({ kind: job.kind, outcome: "failed" });
      this.deps.logger.error("job given up", {
        "parley.job.kind": job.kind,
        "parley.job.id": job.id,
        "error.message": error,
      });
      await k.onGiveUp?.(job, err);
    } catch (storeErr) {
      // The lease lapses and another attempt follows; nothing is lost.
      this.deps.logger.error("job outcome could not be stored", {
        "parley.job.id": job.id,
        "error.message": String(storeErr),
      });
    }
  }
}
