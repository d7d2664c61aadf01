import { Client } from "../tests/support/server.ts";

/** The p-th percentile (0–100) of `samples` (nearest rank). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++);
  }));
}

/** Resident memory of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** Registers `n` users (in parallel batches) and returns their ids and tokens. */
export async function registerMany(
  base: string,
  n: number,
  prefix = `b${Date.now().toString(36)}`,
): Promise<Array<{ id: string; token: string; client: Client }>> {
  const out: Array<{ id: string; token: string; client: Client }> = [];
  for (let i = 0; i < n; i += 16) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, async (_, j) => {
        const res = await new Client(base).post("/v1/auth/register", {
          username: `${prefix}${i + j}`,
          password: "benchmark password",
        });
        if (res.status !== 201) {
          throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
        }
        return {
          id: res.body.user.id,
          token: res.body.accessToken,
          client: new Client(base, res.body.accessToken),
        };
      }),
    );
    out.push(...batch);
  }
  return out;
}

/** Settings that lift development rate limits so a benchmark measures the server, not the limiter. */
export const BENCH_ENV: Record<string, string> = {
  RATE_REGISTRATIONS_PER_IP: "1000000",
  RATE_LOGIN_FAILURES_PER_IP: "1000000",
  RATE_MESSAGES_PER_MINUTE: "1000000",
  WS_FRAMES_PER_SECOND: "100000",
  WS_FRAMES_BURST: "100000",
};

/** Rounds for reports. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Uploads a file as a real client does (curl streams it from disk, `-T` with POST) as `type` named
 * `filename`; returns the new media's id.
 */
export async function curlUpload(
  base: string,
  token: string,
  file: string,
  upload: { type: string; filename: string },
): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-w",
      "\n%{http_code}",
      "-X",
      "POST",
      "-H",
      `authorization: Bearer ${token}`,
      "-H",
      `content-type: ${upload.type}`,
      "-T",
      file,
      `${base}/v1/media?filename=${encodeURIComponent(upload.filename)}`,
    ],
  }).output();
  const [body, status] = new TextDecoder().decode(out.stdout).split("\n");
  if (status !== "201") {
    throw new Error(`upload: ${status} ${body} ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(body).id;
}
