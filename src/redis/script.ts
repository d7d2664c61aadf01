import type { RedisClient } from "./client.ts";

/**
 * A Lua script run atomically in Redis by its SHA (EVALSHA), loaded on first use and again after a
 * Redis restart (NOSCRIPT).
 */
export class RedisScript {
  #sha?: Promise<string>;

  constructor(readonly source: string) {}

  async run<T>(client: RedisClient, keys: string[], args: Array<string | number>): Promise<T> {
    const argv = args.map(String);
    this.#sha ??= sha1(this.source);
    const sha = await this.#sha;
    try {
      return await client.evalSha(sha, { keys, arguments: argv }) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes("NOSCRIPT")) throw err;
      return await client.eval(this.source, { keys, arguments: argv }) as T;
    }
  }
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
