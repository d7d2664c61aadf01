import { WorkerPool } from "../worker_pool.ts";

/** argon2id cost parameters (OWASP minimum: 19 MiB, 2 iterations, parallelism 1). */
export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
}

/** An argon2id run that takes longer than this has a worker stuck; it is replaced. */
const OPERATION_TIMEOUT_MS = 60_000;

/**
 * Hashes and verifies passwords with argon2id in a pool of Web Workers, so a burst of logins never
 * stalls the event loop that serves chat. Hashes are PHC strings (`$argon2id$v=19$m=..,t=..,p=..$..`),
 * so their parameters travel with them and can be raised later ({@link PasswordHasher.needsRehash}).
 */
export class PasswordHasher {
  #pool: WorkerPool<Record<string, unknown>, string | boolean>;
  #dummy?: Promise<string>;
  /** How many hash and verify operations ran (a login for an unknown user runs one too). */
  operations = { hash: 0, verify: 0 };

  constructor(readonly params: Argon2Params, workers: number) {
    this.#pool = new WorkerPool(new URL("./password_worker.ts", import.meta.url), workers);
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
    return this.#pool.run(message, { timeoutMs: OPERATION_TIMEOUT_MS });
  }

  /** Stops the workers; queued jobs are rejected. */
  close(): void {
    this.#pool.close();
  }
}
