import type { MediaPatch, MediaRecord } from "../domain/media.ts";
import type { EncryptedBlobs } from "./encrypted_blobs.ts";
import {
  type FfmpegOptions,
  imageToPng,
  MediaFailure,
  probe,
  transcodeAudio,
  transcodeVideo,
  videoPoster,
  waveform,
} from "./ffmpeg.ts";
import { imageSize } from "./image_header.ts";
import type { ImageJob, ImagePool } from "./image_pool.ts";

/** What processing found out about the item, to store with status `ready`. */
export type Processed = Omit<MediaPatch, "status" | "updatedAt" | "leaseOwner" | "leaseUntil">;

/** What the pipelines need. */
export interface ProcessorDeps {
  blobs: EncryptedBlobs;
  images: ImagePool;
  ffmpeg: FfmpegOptions;
  /** Prefix of this instance's temporary directories (see {@link tempPrefix}). */
  tempPrefix: string;
}

const IMAGE_FORMAT: Record<string, ImageJob["format"]> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "png",
  "image/heic": "jpeg",
};

/**
 * Turns the encrypted upload (`original`) of an item into its processed variants (`main`, `thumb`),
 * written encrypted under the same key. Images: re-encoded without metadata, ≤ 2048 px, 320 px
 * thumbnail; animated GIFs and video: H.264/AAC MP4 with a poster; audio: Ogg Opus with duration and
 * waveform; documents are stored as uploaded. Plaintext needed by ffmpeg lives only in a private
 * temporary directory that is removed when the job ends. Throws {@link MediaFailure} with a reason
 * the uploader may read; the caller removes whatever variants a failed run left.
 */
export async function processMedia(
  m: MediaRecord,
  key: CryptoKey,
  deps: ProcessorDeps,
): Promise<Processed> {
  if (m.kind === "document") return {};
  if (m.kind === "image") return await processImage(m, key, deps);
  return await withTempDir(deps, (dir) => processAv(m, key, deps, dir, false));
}

async function processImage(
  m: MediaRecord,
  key: CryptoKey,
  deps: ProcessorDeps,
): Promise<Processed> {
  let bytes = await deps.blobs.read(key, m.id, "original");
  if (!bytes) throw new MediaFailure("the upload is missing");
  // imagescript reads no WebP: ffmpeg turns it into PNG first.
  if (m.mime === "image/webp") {
    const original = bytes;
    bytes = await withTempDir(deps, async (dir) => {
      await Deno.writeFile(`${dir}/input`, original, { mode: 0o600 });
      await imageToPng(`${dir}/input`, `${dir}/frame.png`, deps.ffmpeg);
      return await Deno.readFile(`${dir}/frame.png`);
    });
  }
  const result = await deps.images.process(bytes, {
    format: IMAGE_FORMAT[m.mime] ?? "jpeg",
    heic: m.mime === "image/heic",
    timeoutMs: deps.ffmpeg.timeoutMs,
  }).catch((err) => {
    throw new MediaFailure("the image could not be decoded", String(err));
  });
  if ("refused" in result) throw new MediaFailure(result.refused);
  if ("animated" in result) {
    return await withTempDir(deps, (dir) => processAv(m, key, deps, dir, true));
  }
  const size = await deps.blobs.write(key, m.id, "main", result.main.bytes);
  const thumbSize = await deps.blobs.write(key, m.id, "thumb", result.thumb.bytes);
  return {
    kind: "image",
    mime: result.main.mime,
    size,
    width: result.main.width,
    height: result.main.height,
    thumbnail: {
      mime: result.thumb.mime,
      size: thumbSize,
      width: result.thumb.width,
      height: result.thumb.height,
    },
  };
}

async function processAv(
  m: MediaRecord,
  key: CryptoKey,
  deps: ProcessorDeps,
  dir: string,
  animated: boolean,
): Promise<Processed> {
  const input = `${dir}/input`;
  const reader = await deps.blobs.open(key, m.id, "original");
  if (!reader) throw new MediaFailure("the upload is missing");
  try {
    const file = await Deno.open(input, { write: true, createNew: true, mode: 0o600 });
    await reader.stream(0, reader.size - 1).pipeTo(file.writable);
  } finally {
    reader.close();
  }
  const info = await probe(input, deps.ffmpeg);
  if (animated || (m.kind === "video" && info.video)) {
    return await video(m, key, deps, dir, animated || !info.audio);
  }
  if (!info.audio) throw new MediaFailure("the file has no audio or video stream");
  const output = `${dir}/main.ogg`;
  await transcodeAudio(input, output, { ...deps.ffmpeg, channels: info.audio.channels });
  const out = await probe(output, deps.ffmpeg);
  const durationMs = out.durationMs ?? info.durationMs ?? 0;
  const peaks = await waveform(output, durationMs, deps.ffmpeg);
  const size = await writeFile(deps, key, m.id, output);
  return { kind: "audio", mime: "audio/ogg", size, durationMs, waveform: peaks };
}

async function video(
  m: MediaRecord,
  key: CryptoKey,
  deps: ProcessorDeps,
  dir: string,
  silent: boolean,
): Promise<Processed> {
  const output = `${dir}/main.mp4`;
  await transcodeVideo(`${dir}/input`, output, { ...deps.ffmpeg, silent });
  const out = await probe(output, deps.ffmpeg);
  if (!out.video) throw new MediaFailure("the video could not be converted");
  const durationMs = out.durationMs ?? 0;
  await videoPoster(output, `${dir}/poster.jpg`, Math.min(1000, durationMs / 2), deps.ffmpeg);
  const poster = await Deno.readFile(`${dir}/poster.jpg`);
  const posterSize = imageSize(poster);
  const size = await writeFile(deps, key, m.id, output);
  const thumbSize = await deps.blobs.write(key, m.id, "thumb", poster);
  return {
    kind: "video",
    mime: "video/mp4",
    size,
    width: out.video.width,
    height: out.video.height,
    durationMs,
    animated: m.kind === "image",
    thumbnail: {
      mime: "image/jpeg",
      size: thumbSize,
      width: posterSize?.width ?? 0,
      height: posterSize?.height ?? 0,
    },
  };
}

async function writeFile(deps: ProcessorDeps, key: CryptoKey, id: string, path: string) {
  const file = await Deno.open(path, { read: true });
  return await deps.blobs.write(key, id, "main", file.readable);
}

/** Runs `fn` with a private temporary directory (OS temp, never DATA_DIR), always removed after. */
async function withTempDir<T>(deps: ProcessorDeps, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: deps.tempPrefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Prefix of the temporary directories jobs use (a crash may leave one; start-up sweeps them). */
export const TEMP_PREFIX = "parley-media-";

/** The temporary-directory prefix of one instance, so a restarted instance knows its own. */
export function tempPrefix(instanceId: string): string {
  return `${TEMP_PREFIX}${instanceId.replace(/[^A-Za-z0-9_.-]/g, "_")}-`;
}
