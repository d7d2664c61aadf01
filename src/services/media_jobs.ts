import type { Config } from "../config.ts";
import type { DataKeys } from "../crypto/envelope.ts";
import type { MediaRecord } from "../domain/media.ts";
import { nowIso } from "../ids.ts";
import { MediaFailure } from "../media/ffmpeg.ts";
import { processMedia, type ProcessorDeps, TEMP_PREFIX, tempPrefix } from "../media/processor.ts";
import { JobQueue } from "../media/queue.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { Store } from "../store/store.ts";

/** Processing runs that may be started for one item before it is given up as failed. */
const MAX_ATTEMPTS = 3;
const RECOVERY_INTERVAL_MS = 60_000;

/**
 * Runs media processing off the request path: a bounded queue (MEDIA_CONCURRENCY at once), each job
 * under a claim in the store so only one instance works on an item, results stored as `ready` or
 * `failed` (with a reason, and no variant left behind), the upload deleted either way, and
 * `onSettled` told. Items still `processing` after a crash are found again at start-up and every
 * minute; a claim held by a dead instance is taken over once it expires (at once by an instance
 * restarted with the same INSTANCE_ID).
 */
export class MediaJobs {
  readonly queue: JobQueue;
  readonly #tempPrefix: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopping = new AbortController();
  #leaseMs: number;
  readonly #outcomes;

  constructor(
    private readonly deps: Omit<ProcessorDeps, "tempPrefix"> & {
      config: Config;
      store: Pick<Store, "media">;
      dataKeys: DataKeys;
      logger: Logger;
      metrics: MetricsRegistry;
      onSettled: (media: MediaRecord) => Promise<void>;
    },
  ) {
    this.queue = new JobQueue(
      deps.config.media.concurrency,
      (id) => this.#run(id),
      (id, err) =>
        deps.logger.error("media job crashed", {
          "parley.media.id": id,
          "error.message": String(err),
        }),
    );
    this.#tempPrefix = tempPrefix(deps.config.instanceId);
    // Every step of a job has the job timeout; a claim outlives the longest job.
    this.#leaseMs = deps.config.media.jobTimeoutMs * 4 + 60_000;
    this.#outcomes = deps.metrics.counter(
      "parley_media_jobs_total",
      "Media processing jobs by kind and outcome",
    );
  }

  /** The claim an instance puts on a new upload it will process. */
  lease(now = Date.now()): { leaseOwner: string; leaseUntil: string } {
    return {
      leaseOwner: this.deps.config.instanceId,
      leaseUntil: new Date(now + this.#leaseMs).toISOString(),
    };
  }

  enqueue(id: string): void {
    this.queue.add(id);
  }

  /** Sweeps temporary files of crashed jobs, queues unfinished items, and re-checks every minute. */
  async start(): Promise<void> {
    await this.#sweepTemp();
    await this.recover();
    const timer = setInterval(() => void this.recover(), RECOVERY_INTERVAL_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Queues every item still `processing` (the claim decides who works on it). */
  async recover(): Promise<number> {
    let found = 0;
    let afterId: string | undefined;
    try {
      for (;;) {
        const page = await this.deps.store.media.listMediaByStatus("processing", {
          limit: 200,
          afterId,
        });
        for (const m of page) if (this.queue.add(m.id)) found++;
        if (page.length < 200) break;
        afterId = page.at(-1)!.id;
      }
    } catch (err) {
      this.deps.logger.error("media recovery failed", { "error.message": String(err) });
    }
    return found;
  }

  /**
   * Stops the sweep and interrupts running ffmpeg jobs; what was interrupted or still queued stays
   * `processing`, its claim released, for the next instance to take at once.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopping.abort();
    await this.queue.close();
  }

  async #run(id: string): Promise<void> {
    const now = Date.now();
    const m = await this.deps.store.media.claimMedia(id, {
      owner: this.deps.config.instanceId,
      until: new Date(now + this.#leaseMs).toISOString(),
      now: new Date(now).toISOString(),
    });
    if (!m) return;
    this.deps.logger.debug("media job started", {
      "parley.media.id": id,
      "parley.media.kind": m.kind,
      "parley.media.attempt": m.attempts,
    });
    const started = performance.now();
    let settled: MediaRecord | null;
    try {
      if (m.attempts > MAX_ATTEMPTS) {
        throw new MediaFailure("processing was interrupted too many times");
      }
      const key = await this.deps.dataKeys.forReading(m.keyId);
      if (!key) throw new MediaFailure("the uploader's data key no longer exists");
      const processed = await processMedia(m, key, {
        ...this.deps,
        ffmpeg: { ...this.deps.ffmpeg, signal: this.#stopping.signal },
        tempPrefix: this.#tempPrefix,
      });
      settled = await this.deps.store.media.updateMedia(id, {
        ...processed,
        status: "ready",
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: nowIso(),
      }, { whenStatus: "processing" });
      if (m.kind !== "document") await this.deps.blobs.delete(id, "original");
      // Deleted while it was processed (its owner's account was erased): nothing may stay behind.
      if (!settled && !(await this.deps.store.media.getMedia(id))) {
        await this.deps.blobs.deleteAll(id);
      }
    } catch (err) {
      if (this.#stopping.signal.aborted) return await this.#release(m);
      settled = await this.#fail(m, err);
    }
    const outcome = settled?.status ?? "gone";
    this.#outcomes.inc({ kind: m.kind, outcome });
    this.deps.logger.info("media processed", {
      "parley.media.id": id,
      "parley.media.kind": settled?.kind ?? m.kind,
      "parley.media.status": outcome,
      "event.duration": Math.round((performance.now() - started) * 1e6),
    });
    if (settled) await this.deps.onSettled(settled);
  }

  /** Gives an interrupted job back: still processing, its claim free (the attempt still counts). */
  async #release(m: MediaRecord): Promise<void> {
    this.deps.logger.info("media job interrupted by shutdown", { "parley.media.id": m.id });
    await this.deps.store.media.updateMedia(m.id, {
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: nowIso(),
    }, { whenStatus: "processing" }).catch(() => {});
  }

  async #fail(m: MediaRecord, err: unknown): Promise<MediaRecord | null> {
    const known = err instanceof MediaFailure;
    this.deps.logger.warn("media processing failed", {
      "parley.media.id": m.id,
      "parley.media.kind": m.kind,
      "error.message": known ? err.message : String(err),
      "error.stack_trace": known ? err.detail : (err as Error)?.stack,
    });
    await this.deps.blobs.deleteAll(m.id).catch(() => {});
    return await this.deps.store.media.updateMedia(m.id, {
      status: "failed",
      failureReason: known ? err.message : "processing failed",
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: nowIso(),
    }, { whenStatus: "processing" });
  }

  /**
   * Removes temporary directories of dead jobs: this instance's own at once (it has just started),
   * other instances' once older than a claim.
   */
  async #sweepTemp(): Promise<void> {
    const probe = await Deno.makeTempDir({ prefix: TEMP_PREFIX });
    const root = probe.slice(0, probe.lastIndexOf("/"));
    await Deno.remove(probe);
    const cutoff = Date.now() - this.#leaseMs;
    try {
      for await (const entry of Deno.readDir(root)) {
        if (!entry.isDirectory || !entry.name.startsWith(TEMP_PREFIX)) continue;
        const info = await Deno.stat(`${root}/${entry.name}`).catch(() => null);
        const mine = entry.name.startsWith(this.#tempPrefix);
        if (mine || (info?.mtime && info.mtime.getTime() < cutoff)) {
          await Deno.remove(`${root}/${entry.name}`, { recursive: true }).catch(() => {});
        }
      }
    } catch (err) {
      this.deps.logger.warn("media temp sweep failed", { "error.message": String(err) });
    }
  }
}
