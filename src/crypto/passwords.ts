/** argon2id cost parameters (OWASP minimum: 19 MiB, 2 iterations, parallelism 1). */
export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
}

interface Job {
  message: Record<string, unknown>;
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
}

/**
 * Hashes and verifies passwords with argon2id in a pool of Web Workers, so a burst of logins never
 * stalls the event loop that serves chat. Hashes are PHC strings (`$argon2id$v=19$m=..,t=..,p=..$..`),
 * so their parameters travel with them and can be raised later ({@link PasswordHasher.needsRehash}).
 */
export class PasswordHasher {
  #idle: Worker[] = [];
  #all: Worker[] = [];
  #queue: Job[] = [];
  #pending = new Map<number, Job>();
  #nextId = 1;
  #dummy?: Promise<string>;
  /** How many hash and verify operations ran (a login for an unknown user runs one too). */
  operations = { hash: 0, verify: 0 };

  constructor(readonly params: Argon2Params, workers: number) {
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL("./password_worker.ts", import.meta.url).href, {
        type: "module",
      });
      w.onmessage = (
        e: MessageEvent<{ id: number; result?: string | boolean; error?: string }>,
      ) => {
        const job = this.#pending.get(e.data.id);
        this.#pending.delete(e.data.id);
        this.#idle.push(w);
        this.#pump();
        if (!job) return;
        if (e.data.error !== undefined) job.reject(new Error(`password worker: ${e.data.error}`));
        else job.resolve(e.data.result!);
      };
      this.#all.push(w);
      this.#idle.push(w);
    }
  }

  /** A new PHC-encoded argon2id hash of `password` with a fresh random salt. */
  hash(password: string): Promise<string> {
    this.operations.hash++;
    return this.#run({ op: "hash", password, params: this.params }) as Promise<string>;
  }

  /** Whether `password` matches `hash`. Malformed hashes count as a mismatch. */
  async verify(hash: string, password: string): Promise<boolean> {
    this.operations.verify++;
    try {
      return await this.#run({ op: "verify", password, hash }) as boolean;
    } catch {
      return false;
    }
  }

  /**
   * Verifies against a fixed dummy hash with the current parameters, so a login for an unknown user
   * costs the same time as one with a wrong password. Always false.
   */
  async verifyDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash(crypto.randomUUID());
    await this.verify(await this.#dummy, password);
    return false;
  }

  /** True when `hash` was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
    if (!m) return true;
    return Number(m[1]) < this.params.memoryKiB || Number(m[2]) < this.params.iterations;
  }

  #run(message: Record<string, unknown>): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      const id = this.#nextId++;
      this.#pending.set(id, job);
      worker.postMessage({ id, ...job.message });
    }
  }

  /** Stops the workers; queued jobs are rejected. */
  close(): void {
    for (const w of this.#all) w.terminate();
    for (const job of [...this.#queue, ...this.#pending.values()]) {
      job.reject(new Error("password hasher closed"));
    }
    this.#queue = [];
    this.#pending.clear();
    this.#all = [];
    this.#idle = [];
  }
}
