/** A Parley server running as a child process (`deno run main.ts`), as operators run it. */
export interface ServerProcess {
  url: string;
  port: number;
  child: Deno.ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  /** Resolves when a log line matching `pattern` appears. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number>;
  kill(signal?: Deno.Signal): void;
  /** Kills the process (SIGKILL) and waits for it, so `await using` cleans up at scope exit. */
  [Symbol.asyncDispose](): Promise<void>;
}

const root = new URL("../../", import.meta.url).pathname;

/**
 * The permission flags of `deno task start` (what operators and the Docker image run with), so that
 * servers under test have no permission production lacks.
 */
export async function startFlags(): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).tasks;
  const words: string[] = tasks.start.command.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
}

/**
 * Starts `main.ts` with `env` on a free port, with the permissions of `deno task start`, and waits
 * until it listens.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await startFlags(), `${root}main.ts`],
    cwd: root,
    env: { PORT: "0", LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.pattern.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await done;
    return s.code;
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 20_000) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no line matching ${pattern} in time; got:\n${lines.join("\n")}`));
      }, timeoutMs);
      waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  const listening = JSON.parse(
    await Promise.race([
      waitForLine(/"message":"listening"/),
      exited.then((code) => {
        throw new Error(`server exited with ${code} before listening:\n${lines.join("\n")}`);
      }),
    ]),
  );

  const port = listening["server.port"];
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    lines,
    waitForLine,
    exited,
    kill,
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await exited;
    },
  };
}
