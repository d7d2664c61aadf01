/**
 * A FIFO of job ids run by at most `concurrency` workers at once. An id already queued or running is
 * not added twice. A failing job is reported to `onError` and never stops the queue.
 */
export class JobQueue {
  #waiting: string[] = [];
  #known = new Set<string>();
  #running = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly run: (id: string) => Promise<void>,
    private readonly onError: (id: string, err: unknown) => void,
  ) {}

  /** Queues `id`; false when it is already queued or running, or the queue is closed. */
  add(id: string): boolean {
    if (this.#closed || this.#known.has(id)) return false;
    this.#known.add(id);
    this.#waiting.push(id);
    this.#pump();
    return true;
  }

  /** Jobs waiting plus jobs running. */
  get size(): number {
    return this.#known.size;
  }

  get running(): number {
    return this.#running;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.#known.size === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what is still waiting (it stays `processing` in the store) and waits for running jobs. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of this.#waiting.splice(0)) this.#known.delete(id);
    if (this.#known.size > 0) await this.idle();
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const id = this.#waiting.shift()!;
      this.#running++;
      this.run(id)
        .catch((err) => this.onError(id, err))
        .finally(() => {
          this.#running--;
          this.#known.delete(id);
          if (this.#known.size === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
          this.#pump();
        });
    }
  }
}
