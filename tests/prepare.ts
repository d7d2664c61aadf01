// Makes sure the tools the tests need are present: redis-server (broker, cache, presence and rate
// limit adapters run against a real one), ffmpeg/ffprobe (media pipeline) and heif-enc (HEIC test
// fixtures). On a fresh Debian machine where we are root, installs them with apt; otherwise says
// exactly what to install.

const TOOLS: Array<{ bin: string; args: string[]; pkg: string }> = Deno.args.includes("--e2e")
  // `deno task e2e`: the browser tests drive Debian's Chromium.
  ? [{ bin: "chromium", args: ["--version"], pkg: "chromium" }]
  : [
    { bin: "redis-server", args: ["--version"], pkg: "redis-server" },
    { bin: "ffmpeg", args: ["-version"], pkg: "ffmpeg" },
    { bin: "ffprobe", args: ["-version"], pkg: "ffmpeg" },
    { bin: "heif-enc", args: ["-h"], pkg: "libheif-examples" },
  ];

async function has(bin: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(bin, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

const missing = [];
for (const t of TOOLS) if (!(await has(t.bin, t.args))) missing.push(t);

if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const isRoot = Deno.uid?.() === 0;
  const hasApt = await has("apt-get", ["--version"]);
  if (isRoot && hasApt) {
    console.log(`tests/prepare: installing ${pkgs.join(", ")} with apt-get`);
    const run = async (args: string[]) => {
      const r = await new Deno.Command("apt-get", {
        args,
        env: { DEBIAN_FRONTEND: "noninteractive" },
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!r.success) throw new Error(`apt-get ${args.join(" ")} failed`);
    };
    await run(["update", "-qq"]);
    await run(["install", "-y", "-qq", "--no-install-recommends", ...pkgs]);
  } else {
    console.error(
      `tests/prepare: missing ${missing.map((t) => t.bin).join(", ")}. Install them first, e.g.\n` +
        `  sudo apt-get install -y ${pkgs.join(" ")}   (Debian/Ubuntu)\n` +
        `  brew install redis ffmpeg libheif          (macOS)\n` +
        "(browser tests only: without Chromium they skip, saying so)",
    );
    Deno.exit(1);
  }
}
if (!Deno.env.get("MONGODB_URI") && !Deno.args.includes("--e2e")) {
  console.log(
    "tests/prepare: MONGODB_URI is not set, so the MongoDB store contract run will be skipped",
  );
}
