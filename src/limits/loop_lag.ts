/** How often the event loop is sampled. */
const TICK_MS = 20;

/**
 * How late the event loop runs: a timer due every 20 ms notes how much later than due it fired. When
 * the main thread is saturated, work (socket frames, requests) queues ahead of that timer, so its
 * lateness is how long a frame arriving now waits before it is even looked at. `lagMs` is the
 * lateness of the latest tick, or, while a tick is overdue, how overdue it is.
 */
export class LoopLag {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #last = 0;

  start(): void {
    const tick = () => {
      const now = performance.now();
      this.#last = Math.max(0, now - this.#due);
      this.#due = now + TICK_MS;
      this.#timer = setTimeout(tick, TICK_MS);
      Deno.unrefTimer(this.#timer);
    };
    this.#due = performance.now();
    tick();
  }

  /** The event loop's current lateness in ms (0 when idle or not started). */
  get lagMs(): number {
    if (this.#timer === undefined) return 0;
    return Math.max(this.#last, performance.now() - this.#due);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
