import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import { EPOCH, type ReadCache, type Versions } from "./cache.ts";

/** A lookup as callers see it: `versions` is null when the cache could not be asked (do not write). */
export interface ReadThroughLookup<T> {
  value: T | null;
  versions: Versions | null;
}

/** Why a cached read went to the store (the `reason` label of the miss counter). */
export type MissReason =
  /** No entry, or one stamped with versions that are no longer current. */
  | "absent"
  /** An entry whose own check against the store failed (an invalidation was lost). */
  | "stale"
  /** The cached shared value does not fit this viewer (they hid some of it from themselves). */
  | "personal"
  /** The cache failed, timed out, or this instance still owes it invalidations. */
  | "unavailable";

/** Invalidations owed before falling back to invalidating everything at once. */
const MAX_PENDING = 10_000;
const RETRY_MS = 1000;

/**
 * How services use a {@link ReadCache}: it never throws and never waits long. Any cache error or
 * timeout reads as a miss (the caller goes to the store), logged once per outage and counted.
 *
 * An invalidation that fails is owed: this instance serves nothing from the cache until it has
 * delivered it (retried every second and before each lookup), so its own readers never see what its
 * own writes made stale. Every entry depends on {@link EPOCH}; owing too much turns into one bump of it.
 */
export class ReadThrough {
  #pending = new Set<string>();
  #failing = false;
  #retry?: ReturnType<typeof setInterval>;
  readonly #hits;
  readonly #misses;
  readonly #errors;

  constructor(
    readonly cache: ReadCache,
    private readonly options: {
      ttlMs: number;
      /** Longest wait for the cache before treating it as down. */
      timeoutMs: number;
      logger: Logger;
      metrics: MetricsRegistry;
    },
  ) {
    const { metrics } = options;
    this.#hits = metrics.counter("parley_cache_hits_total", "Reads served from the read cache");
    this.#misses = metrics.counter(
      "parley_cache_misses_total",
      "Cacheable reads served by the store, by reason (absent, stale, personal, unavailable)",
    );
    this.#errors = metrics.counter(
      "parley_cache_errors_total",
      "Read cache operations that failed or timed out, by operation",
    );
    metrics.gauge(
      "parley_cache_pending_invalidations",
      "Invalidations this instance still owes the read cache (nothing is served from it meanwhile)",
    ).collect(() => [[{}, this.#pending.size]]);
  }

  /** Counts a read served from the cache. */
  hit(read: string): void {
    this.#hits.inc({ read });
  }

  /** Counts a cacheable read that went to the store. */
  miss(read: string, reason: MissReason): void {
    this.#misses.inc({ read, reason });
  }

  /**
   * The entry under `key` if valid, decoded, and the current versions of `deps` (and the epoch). An
   * entry that does not decode (written by another release, or damaged) counts as absent.
   */
  async lookup<T>(
    key: string,
    deps: string[],
    decode: (text: string) => T,
  ): Promise<ReadThroughLookup<T>> {
    if (!(await this.#settle())) return { value: null, versions: null };
    let found;
    try {
      found = await this.#timed(this.cache.read(key, deps));
      this.#recovered();
    } catch (err) {
      this.#failed("read", err);
      return { value: null, versions: null };
    }
    if (found.value === null) return { value: null, versions: found.versions };
    try {
      return { value: decode(found.value), versions: found.versions };
    } catch (err) {
      this.#failed("decode", err);
      return { value: null, versions: found.versions };
    }
  }

  /** The current versions of `deps`, or null when the cache cannot be asked. */
  async versions(deps: string[]): Promise<Versions | null> {
    try {
      return await this.#timed(this.cache.versions(deps));
    } catch (err) {
      this.#failed("versions", err);
      return null;
    }
  }

  /** Stores a value built after `stamp` was read; failures only cost a future miss. */
  async write(key: string, value: string, stamp: Versions): Promise<void> {
    if (this.#pending.size > 0) return;
    try {
      await this.#timed(this.cache.write(key, value, stamp, this.options.ttlMs));
    } catch (err) {
      this.#failed("write", err);
    }
  }

  /** Bumps `deps` after a durable change; a failure is owed and retried (see the class comment). */
  async invalidate(deps: string[]): Promise<void> {
    if (deps.length === 0) return;
    if (this.#pending.size === 0) {
      try {
        await this.#timed(this.cache.bump(deps));
        this.#recovered();
        return;
      } catch (err) {
        this.#failed("bump", err);
      }
    }
    for (const dep of deps) this.#pending.add(dep);
    if (this.#pending.size > MAX_PENDING) this.#pending = new Set([EPOCH]);
    if (this.#retry === undefined) {
      const retry = setInterval(() => void this.#settle(), RETRY_MS);
      Deno.unrefTimer(retry);
      this.#retry = retry;
    }
  }

  /** Stops retrying and closes the adapter. */
  async close(): Promise<void> {
    clearInterval(this.#retry);
    this.#retry = undefined;
    await this.cache.close();
  }

  /** Delivers owed invalidations; true when none are left. */
  async #settle(): Promise<boolean> {
    if (this.#pending.size === 0) return true;
    const owed = [...this.#pending];
    try {
      await this.#timed(this.cache.bump(owed));
    } catch (err) {
      this.#failed("bump", err);
      return false;
    }
    for (const dep of owed) this.#pending.delete(dep);
    if (this.#pending.size > 0) return false;
    clearInterval(this.#retry);
    this.#retry = undefined;
    this.#recovered();
    return true;
  }

  async #timed<T>(op: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`read cache did not answer in ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    op.catch(() => {});
    try {
      return await Promise.race([op, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(op: string, err: unknown): void {
    this.#errors.inc({ op });
    if (this.#failing) return;
    this.#failing = true;
    this.options.logger.warn("read cache unavailable; reads go to the store", {
      "parley.cache": this.cache.kind,
      "parley.cache.op": op,
      "error.message": err instanceof Error ? err.message : String(err),
    });
  }

  #recovered(): void {
    if (!this.#failing || this.#pending.size > 0) return;
    this.#failing = false;
    this.options.logger.info("read cache available again", { "parley.cache": this.cache.kind });
  }
}
