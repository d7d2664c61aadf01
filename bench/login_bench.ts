// Login throughput, and whether a login storm slows everything else down: argon2id runs in worker
// threads, so a cheap authenticated request should keep its latency while logins pour in.
//   deno run -A bench/login_bench.ts [seconds]
import { percentile, round } from "./_lib.ts";
import { Client, registerUser, startServer, type TestUser } from "../tests/support/server.ts";

/** What {@link runLoginBench} measured. Latencies in milliseconds. */
export interface LoginBenchResult {
  /** Successful logins per second with {@link CONCURRENCY} clients logging in back to back. */
  loginsPerSecond: number;
  /** p99 of `GET /v1/users/me` with nothing else running. */
  baselineP99Ms: number;
  /** p99 of `GET /v1/users/me` while a login storm runs. */
  stormP99Ms: number;
  /** stormP99Ms / baselineP99Ms: how much a login storm hurts everything else. */
  ratio: number;
}

/** Concurrent login clients, in the throughput run and in the storm. */
const CONCURRENCY = 8;
const USERS = 20;

/** Logs users in one after another until `deadline`; returns how many logins succeeded. */
async function loginLoop(base: string, users: TestUser[], deadline: number): Promise<number> {
  const c = new Client(base);
  let done = 0;
  for (let i = 0; performance.now() < deadline; i++) {
    const u = users[i % users.length];
    const res = await c.post("/v1/auth/login", {
      username: u.username,
      password: u.password,
      deviceName: "bench",
    });
    if (res.status !== 200) {
      throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    done++;
  }
  return done;
}

/** Times `GET /v1/users/me` back to back until `deadline`; returns each latency in ms. */
async function probeLoop(client: Client, deadline: number): Promise<number[]> {
  const samples: number[] = [];
  while (performance.now() < deadline) {
    const started = performance.now();
    const res = await client.get("/v1/users/me");
    samples.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`probe failed: ${res.status}`);
  }
  return samples;
}

/** Splits `users` into `n` disjoint groups, so no account has two logins in flight. */
function groups(users: TestUser[], n: number): TestUser[][] {
  return Array.from({ length: n }, (_, i) => users.filter((_, j) => j % n === i));
}

/**
 * Runs the login benchmark on a fresh in-process server: logins per second with several concurrent
 * clients, then the p99 latency of a cheap authenticated request alone and during a login storm.
 * Each phase lasts `seconds` (default 5).
 *
 * @example
 * const { loginsPerSecond, ratio } = await runLoginBench({ seconds: 3 });
 */
export async function runLoginBench(
  options: { seconds?: number } = {},
): Promise<LoginBenchResult> {
  const ms = (options.seconds ?? 5) * 1000;
  const s = await startServer({ LOG_LEVEL: "warn" });
  try {
    const users: TestUser[] = [];
    for (let i = 0; i < USERS; i += 5) {
      users.push(
        ...await Promise.all(
          Array.from({ length: 5 }, (_, j) => registerUser(s.url, { username: `bench${i + j}` })),
        ),
      );
    }
    const probe = users[0].client;
    const shares = groups(users, CONCURRENCY);
    await probeLoop(probe, performance.now() + 200); // warm up the route and the session cache

    const started = performance.now();
    const counts = await Promise.all(
      shares.map((share) => loginLoop(s.url, share, started + ms)),
    );
    const elapsed = (performance.now() - started) / 1000;
    const loginsPerSecond = counts.reduce((a, b) => a + b, 0) / elapsed;

    const baseline = await probeLoop(probe, performance.now() + ms);

    const stormEnd = performance.now() + ms;
    const [storm] = await Promise.all([
      probeLoop(probe, stormEnd),
      ...shares.map((share) => loginLoop(s.url, share, stormEnd)),
    ]);

    const baselineP99Ms = percentile(baseline, 99);
    const stormP99Ms = percentile(storm, 99);
    return {
      loginsPerSecond: round(loginsPerSecond, 2),
      baselineP99Ms: round(baselineP99Ms, 2),
      stormP99Ms: round(stormP99Ms, 2),
      ratio: round(stormP99Ms / baselineP99Ms, 2),
    };
  } finally {
    await s.close();
  }
}

if (import.meta.main) {
  const seconds = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  console.log(JSON.stringify(await runLoginBench({ seconds }), null, 2));
}
