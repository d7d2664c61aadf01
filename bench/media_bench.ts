// Media throughput, and whether processing slows chat down: images are decoded in workers and video
// in ffmpeg subprocesses, so a WebSocket ping should answer as fast while media is processed as when
// the server is idle. The server runs as its own process (as operators run it).
//   deno run -A bench/media_bench.ts
import { percentile, round } from "./_lib.ts";
import { Image } from "imagescript";
import { mp4 } from "../tests/support/media_fixtures.ts";
import { upload } from "../tests/support/media.ts";
import { spawnServer } from "../tests/support/process.ts";
import { registerUser } from "../tests/support/server.ts";
import { WsClient } from "../tests/support/ws.ts";

const IMAGES = 16;
const UPLOAD_CONCURRENCY = 4;
const IDLE_MS = 3000;
const VIDEO_SECONDS = 10;

/** A JPEG of about 1 MB: a detailed 1280×960 picture. */
async function photo(seed: number): Promise<Uint8Array> {
  const img = new Image(1280, 960);
  img.fill((x, y) =>
    Image.rgbaToColor(
      (x * 13 + y * 7 + seed) % 256,
      ((x ^ y) * 3 + seed) % 256,
      ((x * y) >> 6) % 256,
      255,
    )
  );
  return await img.encodeJPEG(85);
}

/** WebSocket `{type:"ping"}` round trips, back to back, until `stop()` resolves. */
async function pingLoop(ws: WsClient, stop: Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let done = false;
  stop.finally(() => (done = true));
  while (!done) {
    const started = performance.now();
    const ack = await ws.request({ type: "ping" }, 30_000);
    if (!ack.ok) throw new Error(`ping failed: ${JSON.stringify(ack)}`);
    samples.push(performance.now() - started);
    // Paced under the per-connection frame limit (60/s).
    await new Promise((r) => setTimeout(r, 20));
  }
  return samples;
}

/** Resolves when `media.updated` has said `ready` (or `failed`) for every id. */
function allSettled(ws: WsClient, ids: Set<string>, timeoutMs: number): Promise<void> {
  return Promise.all(
    [...ids].map((id) =>
      ws.next((f) => f.event === "media.updated" && f.data.id === id, timeoutMs).then((f) => {
        if (f.data.status !== "ready") throw new Error(`media failed: ${f.data.failureReason}`);
      })
    ),
  ).then(() => {});
}

/**
 * Runs the media benchmark against a fresh server process (`env` adds to its environment, e.g.
 * MEDIA_CONCURRENCY) and returns its figures: image and video
 * throughput (upload + processing until `media.updated` says ready), and WebSocket ping p50/p99
 * while idle and while media is processed, with their ratio.
 */
export async function runMediaBench(
  env: Record<string, string> = {},
): Promise<Record<string, number>> {
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-media-" });
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: "info", ...env });
  try {
    const user = await registerUser(server.url);
    const ws = await WsClient.connect(server.url, user.accessToken);
    const prober = await WsClient.connect(server.url, user.accessToken);
    const photos = await Promise.all(Array.from({ length: IMAGES }, (_, i) => photo(i)));
    const video = await mp4(VIDEO_SECONDS, "640x360");

    // Warm-up: the first image starts the worker pool (steady state is what matters).
    const warm = await upload(user.client, photos[0], { type: "image/jpeg", filename: "w.jpg" });
    await allSettled(ws, new Set([warm.body.id]), 120_000);
    const idle = await pingLoop(prober, new Promise((r) => setTimeout(r, IDLE_MS)));

    const imagesStarted = performance.now();
    const imageIds = new Set<string>();
    const imageWork = (async () => {
      let next = 0;
      const waits: Promise<void>[] = [];
      await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
        while (next < photos.length) {
          const bytes = photos[next++];
          const res = await upload(user.client, bytes, { type: "image/jpeg", filename: "p.jpg" });
          if (res.status !== 201) throw new Error(`upload: ${res.status}`);
          imageIds.add(res.body.id);
          waits.push(allSettled(ws, new Set([res.body.id]), 120_000));
        }
      }));
      await Promise.all(waits);
    })();
    const busyImages = await pingLoop(prober, imageWork);
    await imageWork;
    const imageSeconds = (performance.now() - imagesStarted) / 1000;

    const videoStarted = performance.now();
    const videoWork = (async () => {
      const res = await upload(user.client, video, { type: "video/mp4", filename: "v.mp4" });
      if (res.status !== 201) throw new Error(`upload: ${res.status}`);
      await allSettled(ws, new Set([res.body.id]), 300_000);
    })();
    const busyVideo = await pingLoop(prober, videoWork);
    await videoWork;
    const videoSeconds = (performance.now() - videoStarted) / 1000;
    await ws.close();
    await prober.close();

    const busy = [...busyImages, ...busyVideo];
    const imageMb = photos.reduce((n, p) => n + p.length, 0) / 1e6;
    return {
      imageCount: IMAGES,
      imageAverageMB: round(imageMb / IMAGES, 2),
      imagesPerSecond: round(IMAGES / imageSeconds, 2),
      imageMBPerSecond: round(imageMb / imageSeconds, 2),
      videoSourceSeconds: VIDEO_SECONDS,
      videoProcessingSeconds: round(videoSeconds, 2),
      videoRealtimeFactor: round(VIDEO_SECONDS / videoSeconds, 2),
      idlePingP50Ms: round(percentile(idle, 50), 2),
      idlePingP99Ms: round(percentile(idle, 99), 2),
      busyPingP50Ms: round(percentile(busy, 50), 2),
      busyPingP99Ms: round(percentile(busy, 99), 2),
      busyImagesPingP99Ms: round(percentile(busyImages, 99), 2),
      busyVideoPingP99Ms: round(percentile(busyVideo, 99), 2),
      pingP99Ratio: round(percentile(busy, 99) / percentile(idle, 99), 2),
      pingSamplesBusy: busy.length,
    };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const result = await runMediaBench();
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/media.json", import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
  console.log("| metric | value |\n| --- | --- |");
  for (const [k, v] of Object.entries(result)) console.log(`| ${k} | ${v} |`);
}
