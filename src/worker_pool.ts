interface Job {
  message: unknown;
  transfer: Transferable[];
  timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * A pool of at most `size` module Web Workers started on first use, one job per worker at a time,
 * the rest queued. A job that exceeds its time limit, or whose worker dies, is rejected and its worker
 * replaced, so one pathological input cannot wedge the pool. Workers answer `{result}` or `{error}`.
 */
export class WorkerPool<Req, Res> {
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #closed = false;

  constructor(private readonly url: URL, private readonly size: number) {}

  /** Runs one job; rejects after `timeoutMs` (its worker is terminated and replaced). */
  run(message: Req, options: { transfer?: Transferable[]; timeoutMs: number }): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error("worker pool closed"));
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({
        message,
        transfer: options.transfer ?? [],
        timeoutMs: options.timeoutMs,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#pump();
    });
  }

  /** Terminates every worker; queued and running jobs are rejected. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.worker.terminate();
      slot.job?.reject(new Error("worker pool closed"));
    }
    for (const job of this.#queue.splice(0)) job.reject(new Error("worker pool closed"));
    this.#slots = [];
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === null);
      if (!slot && this.#slots.length < this.size) slot = this.#spawn();
      if (!slot) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(
        () => this.#fail(slot!, new Error(`worker job timed out after ${job.timeoutMs} ms`)),
        job.timeoutMs,
      );
      slot.worker.postMessage(job.message, job.transfer);
    }
  }

  #spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.url.href, { type: "module" }), job: null };
    slot.worker.onmessage = (e: MessageEvent<{ result?: unknown; error?: string }>) => {
      const job = slot.job;
      clearTimeout(slot.timer);
      slot.job = null;
      if (job) {
        if (e.data.error !== undefined) job.reject(new Error(e.data.error));
        else job.resolve(e.data.result);
      }
      this.#pump();
    };
    slot.worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(slot, new Error(`worker crashed: ${e.message}`));
    };
    this.#slots.push(slot);
    return slot;
  }

  #fail(slot: Slot, err: Error): void {
    clearTimeout(slot.timer);
    slot.worker.terminate();
    this.#slots = this.#slots.filter((s) => s !== slot);
    slot.job?.reject(err);
    slot.job = null;
    if (!this.#closed) this.#pump();
  }
}
