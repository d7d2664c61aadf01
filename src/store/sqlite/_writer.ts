import type { Change, CommitResult } from "../store.ts";
import { errorFromWire, toWire, type WireError, type WireOutcome } from "./_wire.ts";
import type { WORKER_READS, WorkerReadName, WriteArgs, WriteName, WriteResult } from "./_writes.ts";

type WorkerReadArgs<K extends WorkerReadName> = typeof WORKER_READS[K] extends
  (db: never, database: never, ...args: infer A) => unknown ? A
  : never;

type Reply = { id: number; ok: true; value?: unknown } | {
  id: number;
  ok: false;
  error: WireError;
};

/**
 * The main thread's handle on the writer thread: named writes and change batches go over, results
 * (or the original errors, rebuilt) come back in order.
 */
export class Writer {
  #worker: Worker;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #next = 1;
  #closed?: Promise<void>;

  /**
   * A writer thread on `path`; with `database`, the thread also reads that main database file for
   * its {@link readOff} reads.
   */
  constructor(path: string, synchronous: "FULL" | "NORMAL", database?: string) {
    this.#worker = new Worker(new URL("./writer_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      if (!p) return;
      if (e.data.ok) p.resolve(e.data.value);
      else p.reject(errorFromWire(e.data.error));
    };
    void this.#send({ op: "open", path, synchronous, database });
  }

  #send(message: Record<string, unknown>): Promise<unknown> {
    if (this.#closed && message.op !== "close") return Promise.reject(new Error("store closed"));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** Runs the named read on the writer thread (off the event loop). */
  readOff<K extends WorkerReadName>(
    name: K,
    ...args: WorkerReadArgs<K>
  ): Promise<ReturnType<typeof WORKER_READS[K]>> {
    return this.#send({ op: "read", name, args }) as Promise<ReturnType<typeof WORKER_READS[K]>>;
  }

  /** Runs the named write on the writer thread. */
  write<K extends WriteName>(name: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.#send({ op: "write", name, args }) as Promise<WriteResult<K>>;
  }

  /**
   * Commits `changes` in one transaction (each in its own savepoint); per change, its result or the
   * error it raised (expectation errors are the change's own objects).
   */
  async batch(
    changes: Change[],
  ): Promise<Array<{ ok: true; value: CommitResult } | { ok: false; error: unknown }>> {
    const outcomes = await this.#send({
      op: "batch",
      changes: changes.map(toWire),
    }) as WireOutcome[];
    return outcomes.map((o, i) =>
      o.ok ? o : { ok: false as const, error: errorFromWire(o.error, changes[i]) }
    );
  }

  /** Closes the writer connection and stops the thread; later calls resolve at once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#send({ op: "close" }).catch(() => {});
      this.#worker.terminate();
      for (const p of this.#pending.values()) p.reject(new Error("store closed"));
      this.#pending.clear();
    })();
    return this.#closed;
  }
}
