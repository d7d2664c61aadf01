import type { Config } from "../config.ts";
import type { DataKeys } from "../crypto/envelope.ts";
import type { MediaRecord } from "../domain/media.ts";
import { nowIso } from "../ids.ts";
import { MediaFailure } from "../media/ffmpeg.ts";
import { processMedia, type ProcessorDeps, TEMP_PREFIX, tempPrefix } from "../media/processor.ts";
import type { JobRunner } from "../jobs/runner.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { JobRecord, Store } from "../store/store.ts";

/** Processing runs that may be started for one item before it is given up as failed. */
const MAX_ATTEMPTS = 3;
const RECOVERY_INTERVAL_MS = 60_000;
/** The job kind that processes one upload. */
export const PROCESS_MEDIA = "media.process";
/** A media job's lease, renewed while it runs: how late a job whose instance died is taken over. */
const LEASE_MS = 30_000;

/**
 * Media processing off the request path, on the one job runner: an upload enqueues a
 * `media.process` job (at most MEDIA_CONCURRENCY run at once per instance), so exactly one instance
 * works on an item; the result is stored as `ready` or `failed` (with a reason, and no variant left
 * behind), the upload deleted either way, and `onSettled` told. A job whose instance died is taken
 * over when its lease lapses (at once by an instance restarting with the same INSTANCE_ID); a
 * shutdown interrupts running jobs and hands them back. Items still `processing` without a job (an
 * instance that died between storing an upload and enqueueing it) are found at start-up and every
 * minute.
 */
/** The retried removal of a media item whose files could not be deleted at once. */
export const RELEASE_MEDIA = "media.release";

export class MediaJobs {
  readonly #tempPrefix: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #outcomes;

  constructor(
    private readonly deps: Omit<ProcessorDeps, "tempPrefix"> & {
      config: Config;
      store: Pick<Store, "media">;
      dataKeys: DataKeys;
      runner: JobRunner;
      logger: Logger;
      metrics: MetricsRegistry;
      onSettled: (media: MediaRecord) => Promise<void>;
    },
  ) {
    this.#tempPrefix = tempPrefix(deps.config.instanceId);
    this.#outcomes = deps.metrics.counter(
      "parley_media_jobs_total",
      "Media processing jobs by kind and outcome",
    );
    deps.runner.register(PROCESS_MEDIA, (job, signal) => this.#run(job, signal), {
      concurrency: deps.config.media.concurrency,
      leaseMs: LEASE_MS,
    });
  }

  /**
   * Enqueues the processing of an item; `exists` when its job is already there (the job is keyed by
   * the item, so nothing happens twice).
   */
  enqueue(id: string): Promise<"enqueued" | "exists"> {
    return this.deps.runner.enqueue({
      kind: PROCESS_MEDIA,
      key: `media:${id}`,
      payload: { mediaId: id },
      maxAttempts: MAX_ATTEMPTS,
    });
  }

  /**
   * Runs `release(mediaId)` as a durable job: the removal of an item whose files could not be deleted
   * (the bucket was down) is retried with backoff until it succeeds, on any instance.
   */
  onRelease(release: (mediaId: string) => Promise<void>): void {
    this.deps.runner.register(RELEASE_MEDIA, (job) => release(job.payload.mediaId as string), {
      concurrency: 1,
    });
  }

  /** Queues the retried removal of an item (keyed by the item: queued at most once). */
  enqueueRelease(id: string): Promise<"enqueued" | "exists"> {
    return this.deps.runner.enqueue({
      kind: RELEASE_MEDIA,
      key: `media-release:${id}`,
      payload: { mediaId: id },
      maxAttempts: 30,
    });
  }

  /** Sweeps temporary files of crashed jobs, enqueues unfinished items, and re-checks every minute. */
  async start(): Promise<void> {
    await this.#sweepTemp();
    await this.recover();
    const timer = setInterval(() => void this.recover(), RECOVERY_INTERVAL_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Enqueues every item still `processing` that has no job; returns how many it enqueued. */
  async recover(): Promise<number> {
    let found = 0;
    let afterId: string | undefined;
    try {
      for (;;) {
        const page = await this.deps.store.media.listMediaByStatus("processing", {
          limit: 200,
          afterId,
        });
        for (const m of page) if (await this.enqueue(m.id) === "enqueued") found++;
        if (page.length < 200) break;
        afterId = page.at(-1)!.id;
      }
    } catch (err) {
      this.deps.logger.error("media recovery failed", { "error.message": String(err) });
    }
    return found;
  }

  /** Stops the recovery sweep (the runner interrupts and hands back running jobs). */
  close(): Promise<void> {
    clearInterval(this.#timer);
    return Promise.resolve();
  }

  async #run(job: JobRecord, signal: AbortSignal): Promise<void> {
    const id = job.payload.mediaId as string;
    const m = await this.deps.store.media.getMedia(id);
    if (!m || m.status !== "processing") return;
    this.deps.logger.debug("media job started", {
      "parley.media.id": id,
      "parley.media.kind": m.kind,
      "parley.media.attempt": job.attempts,
    });
    const started = performance.now();
    let settled: MediaRecord | null;
    try {
      if (job.attempts > MAX_ATTEMPTS) {
        throw new MediaFailure("processing was interrupted too many times");
      }
      const key = await this.deps.dataKeys.forReading(m.keyId);
      if (!key) throw new MediaFailure("the uploader's data key no longer exists");
      const processed = await processMedia(m, key, {
        ...this.deps,
        ffmpeg: { ...this.deps.ffmpeg, signal },
        tempPrefix: this.#tempPrefix,
      });
      settled = await this.deps.store.media.updateMedia(id, {
        ...processed,
        status: "ready",
        updatedAt: nowIso(),
      }, { whenStatus: "processing" });
      if (m.kind !== "document") await this.deps.blobs.delete(id, "original");
      // Deleted while it was processed (its owner's account was erased): nothing may stay behind.
      if (!settled && !(await this.deps.store.media.getMedia(id))) {
        await this.deps.blobs.deleteAll(id);
      }
    } catch (err) {
      if (signal.aborted) {
        // Not the item's fault: the runner hands the job back for another instance.
        this.deps.logger.info("media job interrupted by shutdown", { "parley.media.id": id });
        throw err;
      }
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
    const cutoff = Date.now() - LEASE_MS;
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
