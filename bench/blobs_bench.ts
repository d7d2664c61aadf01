// Blob storage throughput, the local directory against an S3-compatible bucket (s3rver on loopback)
// in the same run: encrypted writes (Parley's 64 KiB AES-GCM chunks, as uploads are stored) and
// ranged decrypting reads (as a video player's Range requests are served). Then the server's memory
// while a 150 MB video is uploaded into the bucket: it must stream, never hold the file.
//   deno run -A bench/blobs_bench.ts [megabytes]
import { percentile, round, rssBytes } from "./_lib.ts";
import { LocalBlobStore } from "../src/media/blob_store.ts";
import type { BlobStore } from "../src/media/blob_store.ts";
import { EncryptedBlobs } from "../src/media/encrypted_blobs.ts";
import { S3BlobStore } from "../src/media/s3_blob_store.ts";
import { startS3 } from "../tests/support/s3.ts";
import { spawnServer } from "../tests/support/process.ts";
import { registerUser } from "../tests/support/server.ts";

/** Throughput of one adapter. */
export interface StoreFigures {
  writeMBps: number;
  rangedReadMBps: number;
  rangedReadP50Ms: number;
  rangedReadP99Ms: number;
}

/** What {@link runBlobsBench} measured. */
export interface BlobsBenchResult {
  megabytes: number;
  local: StoreFigures;
  s3: StoreFigures;
  /** s3 / local. */
  writeRatio: number;
  readRatio: number;
  /** A big video uploaded to a server process that stores in the bucket, and one that stores locally. */
  upload: { s3: UploadFigures; local: UploadFigures };
}

/** Memory of a server process while a video is uploaded to it. */
export interface UploadFigures {
  videoMB: number;
  seconds: number;
  /** The first big upload into a fresh server: the runtime's buffers grow once. */
  firstPeakGrowthMB: number;
  /** The same upload again: what each further upload costs (does not grow with the file). */
  rssGrowthMB: number;
  peakRssGrowthMB: number;
}

const MB = 1024 * 1024;
const RANGE = 1 * MB;
const READS = 60;

async function measureStore(store: BlobStore, megabytes: number): Promise<StoreFigures> {
  const blobs = new EncryptedBlobs(store);
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const id = `bench${Date.now().toString(36)}`;
  const piece = crypto.getRandomValues(new Uint8Array(64 * 1024));
  const started = performance.now();
  const w = await blobs.writer(key, id, "original");
  for (let i = 0; i < (megabytes * MB) / piece.length; i++) await w.write(piece);
  await w.finish();
  const writeSeconds = (performance.now() - started) / 1000;

  // One reader per range, as each Range request of a player opens its own.
  const size = megabytes * MB;
  const timings: number[] = [];
  const readStarted = performance.now();
  for (let i = 0; i < READS; i++) {
    const start = Math.floor(Math.random() * (size - RANGE));
    const t = performance.now();
    const reader = (await blobs.open(key, id, "original"))!;
    for await (const _ of reader.stream(start, start + RANGE - 1)) { /* drain */ }
    timings.push(performance.now() - t);
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  await store.delete(`${id}/original`);
  return {
    writeMBps: round(megabytes / writeSeconds, 1),
    rangedReadMBps: round((READS * RANGE) / MB / readSeconds, 1),
    rangedReadP50Ms: round(percentile(timings, 50), 2),
    rangedReadP99Ms: round(percentile(timings, 99), 2),
  };
}

function rssMB(pid: number): number {
  return rssBytes(pid) / MB;
}

/** A video of about `megabytes` (high-bitrate noise, so it cannot compress). */
async function bigVideo(path: string, megabytes: number): Promise<void> {
  const seconds = 16;
  // x264 lands at about 0.63 of the asked bitrate on this noise: ask for more to reach the size.
  const kbps = Math.round((megabytes * 8 * 1024) / seconds / 0.63);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-y",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "nullsrc=s=640x360:r=25,geq=random(1)*255:128:128",
      "-t",
      String(seconds),
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-b:v",
      `${kbps}k`,
      "-minrate",
      `${kbps}k`,
      "-maxrate",
      `${kbps}k`,
      "-bufsize",
      `${kbps}k`,
      "-movflags",
      "+faststart",
      path,
    ],
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** Memory of a server (child process, bucket storage) while a big video is uploaded to it. */
async function measureUpload(
  env: Record<string, string>,
  megabytes: number,
): Promise<UploadFigures> {
  const dir = await Deno.makeTempDir({ prefix: "parley-bench-blobs-" });
  const file = `${dir}/video.mp4`;
  await bigVideo(file, megabytes);
  const size = (await Deno.stat(file)).size;
  await using server = await spawnServer({ ...env, DATA_DIR: dir });
  const user = await registerUser(server.url);
  const pid = server.child.pid;
  // Warm the upload path once so lazily loaded code is not counted as growth.
  await fetch(`${server.url}/v1/media?filename=w.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "text/plain" },
    body: "warm up",
  }).then((r) => r.body?.cancel());
  const once = async () => {
    const before = rssMB(pid);
    let peak = before;
    const sampler = setInterval(() => peak = Math.max(peak, rssMB(pid)), 20);
    const started = performance.now();
    const f = await Deno.open(file);
    const res = await fetch(`${server.url}/v1/media?filename=video.mp4`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "video/mp4" },
      body: f.readable,
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    return { seconds, growth: rssMB(pid) - before, peak: peak - before };
  };
  const first = await once();
  const again = await once();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return {
    videoMB: round(size / MB, 1),
    seconds: round(again.seconds, 2),
    firstPeakGrowthMB: round(first.peak, 1),
    rssGrowthMB: round(again.growth, 1),
    peakRssGrowthMB: round(again.peak, 1),
  };
}

export async function runBlobsBench(options: { megabytes?: number; videoMB?: number } = {}) {
  const megabytes = options.megabytes ?? 64;
  await using s3 = await startS3();
  const dir = await Deno.makeTempDir({ prefix: "parley-bench-local-" });
  const local = await measureStore(await LocalBlobStore.open(dir), megabytes);
  const bucket = await measureStore(new S3BlobStore(s3.options("media/")), megabytes);
  await Deno.remove(dir, { recursive: true });
  const videoMB = options.videoMB ?? 150;
  const upload = {
    s3: await measureUpload(s3.env, videoMB),
    local: await measureUpload({}, videoMB),
  };
  return {
    megabytes,
    local,
    s3: bucket,
    writeRatio: round(bucket.writeMBps / local.writeMBps, 3),
    readRatio: round(bucket.rangedReadMBps / local.rangedReadMBps, 3),
    upload,
  } satisfies BlobsBenchResult;
}

if (import.meta.main) {
  const megabytes = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  console.log(JSON.stringify(await runBlobsBench({ megabytes }), null, 2));
}
