import { type ServerProcess, spawnServer } from "./process.ts";
import { startRedis, type TestRedis } from "./redis.ts";

/** Parley instances as child processes that share one store (a fresh `DATA_DIR`) and a real Redis. */
export interface Cluster {
  redis: TestRedis;
  dataDir: string;
  /** What every instance was started with; start more with `spawnServer(cluster.env)`. */
  env: Record<string, string>;
  instances: ServerProcess[];
  /** Kills the instances, stops Redis and removes the data directory. */
  close(): Promise<void>;
  /** {@link Cluster.close}, so `await using cluster = await startCluster(n)` cleans up. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a Redis and `n` instances on it with `env` (each cluster gets its own key prefix). */
export async function startCluster(n: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedis();
  const dataDir = await Deno.makeTempDir({ prefix: "parley-cluster-" });
  const shared = {
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    REDIS_PREFIX: `t${crypto.randomUUID()}:`,
    ...env,
  };
  const instances = await Promise.all(Array.from({ length: n }, () => spawnServer(shared)));
  const close = async () => {
    for (const s of instances) s.kill("SIGKILL");
    await Promise.all(instances.map((s) => s.exited));
    await redis.close();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { redis, dataDir, env: shared, instances, close, [Symbol.asyncDispose]: close };
}

/** The integers from `from` to `to`, both included (empty when `to < from`). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
