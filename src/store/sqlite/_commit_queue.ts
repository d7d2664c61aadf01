import type { Change, CommitResult } from "../log.ts";
import type { Writer } from "./_writer.ts";

interface Pending {
  change: Change;
  resolve: (r: CommitResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: changes are written in batches, one transaction on the writer thread each, every
 * change in its own savepoint so one failure does not undo the others. One batch is in flight at a
 * time; what arrives meanwhile forms the next batch, so batches grow with load instead of queueing
 * fsyncs. With `windowMs` 0 (the default) a change that finds the writer idle goes at once (after
 * the current task, so what one task queues goes together): batching is adaptive, only what arrives
 * while a batch is being written waits, and a quiet server adds no delay. With `windowMs` > 0 the
 * first change of a batch waits that long for others. Promises resolve only after the transaction
 * committed, so an ack is never sent for data that could still be lost.
 */
export class CommitQueue {
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  /** A flush is queued for the end of the current task (adaptive mode). */
  #soon = false;
  /** Batches flushed and changes committed so far (for metrics and the benchmark). */
  batches = 0;
  batchedChanges = 0;

  constructor(
    private readonly writer: Writer,
    private readonly options: { enabled: boolean; maxBatch: number; windowMs: number },
  ) {}

  enqueue(change: Change): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#inFlight) return; // flushed when the batch in flight is done
    const max = this.options.enabled ? this.options.maxBatch : 1;
    if (this.#pending.length >= max || !this.options.enabled) this.#flushNow();
    else if (this.options.windowMs > 0) {
      this.#timer ??= setTimeout(() => this.#flushNow(), this.options.windowMs);
    } else if (!this.#soon) {
      this.#soon = true;
      queueMicrotask(() => this.#flushNow());
    }
  }

  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#soon = false;
    if (this.#pending.length === 0 || this.#inFlight) return;
    const max = this.options.enabled ? this.options.maxBatch : 1;
    const batch = this.#pending.splice(0, max);
    this.#inFlight = this.writer.batch(batch.map((p) => p.change)).then(
      (outcomes) => {
        this.batches++;
        this.batchedChanges += batch.length;
        batch.forEach((p, i) => {
          const o = outcomes[i];
          if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        });
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => {
      this.#inFlight = undefined;
      // What queued during the batch already waited long enough: go at once.
      if (this.#pending.length > 0) this.#flushNow();
    });
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.#inFlight || this.#pending.length > 0) {
      if (!this.#inFlight) this.#flushNow();
      await this.#inFlight;
    }
  }
}
