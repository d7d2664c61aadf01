/** Where ffmpeg and ffprobe are and how long one run may take. */
export interface FfmpegOptions {
  ffmpegPath: string;
  ffprobePath: string;
  timeoutMs: number;
  /** Stops every run at once (shutdown). */
  signal?: AbortSignal;
}

function deadline(options: FfmpegOptions): AbortSignal {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  return options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
}

/** What ffprobe says about a file. */
export interface Probe {
  durationMs: number | null;
  video: { width: number; height: number } | null;
  audio: { channels: number } | null;
}

/**
 * A processing failure whose message is fit for the uploader (`failureReason`); `detail` keeps the
 * tool's own words for the logs.
 */
export class MediaFailure extends Error {
  override name = "MediaFailure";
  constructor(message: string, readonly detail?: string) {
    super(message);
  }
}

// One thread per run and a fast preset: the machine also serves chat.
const COMMON = ["-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1"];
// Subtitles, data streams and every metadata tag (location, device, names) stay behind.
const STRIP = ["-sn", "-dn", "-map_metadata", "-1"];
const VIDEO_MAX_SIDE = 1280;
const POSTER_SIDE = 320;

async function run(
  bin: string,
  args: string[],
  options: FfmpegOptions,
  what: string,
): Promise<Uint8Array> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: deadline(options),
    }).output();
  } catch (err) {
    throw new MediaFailure(`${what} could not run`, String(err));
  }
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).slice(-800);
    const reason = out.signal ? `${what} took too long` : `${what} failed: the file may be damaged`;
    throw new MediaFailure(reason, stderr);
  }
  return out.stdout;
}

/** Streams, duration and dimensions of a media file. */
export async function probe(path: string, options: FfmpegOptions): Promise<Probe> {
  const out = await run(
    options.ffprobePath,
    [
      "-v",
      "error",
      "-print_format",
      "json",
      "-show_format",
      "-show_streams",
      path,
    ],
    options,
    "reading the file",
  );
  const info = JSON.parse(new TextDecoder().decode(out));
  const streams: Array<Record<string, any>> = info.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === "audio");
  const seconds = Number(info.format?.duration ?? video?.duration ?? audio?.duration);
  return {
    durationMs: Number.isFinite(seconds) ? Math.round(seconds * 1000) : null,
    video: video ? { width: Number(video.width), height: Number(video.height) } : null,
    audio: audio ? { channels: Number(audio.channels) || 1 } : null,
  };
}

/**
 * H.264/AAC MP4 with the index up front (`faststart`), at most 1280 px on the long side, even
 * dimensions, metadata (location, device) dropped. `silent` leaves audio out (animated GIFs).
 */
export async function transcodeVideo(
  input: string,
  output: string,
  options: FfmpegOptions & { silent: boolean },
): Promise<void> {
  const scale = `scale='min(${VIDEO_MAX_SIDE},iw)':'min(${VIDEO_MAX_SIDE},ih)'` +
    ":force_original_aspect_ratio=decrease,scale=trunc(iw/2)*2:trunc(ih/2)*2";
  await run(
    options.ffmpegPath,
    [
      ...COMMON,
      "-i",
      input,
      "-map",
      "0:v:0",
      ...(options.silent ? ["-an"] : ["-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]),
      ...STRIP,
      "-vf",
      scale,
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-crf",
      "23",
      "-pix_fmt",
      "yuv420p",
      "-x264-params",
      "threads=1",
      "-movflags",
      "+faststart",
      "-f",
      "mp4",
      "-y",
      output,
    ],
    options,
    "converting the video",
  );
}

/** A JPEG poster frame at most 320 px on the long side, from `atMs` into the video. */
export async function videoPoster(
  input: string,
  output: string,
  atMs: number,
  options: FfmpegOptions,
): Promise<void> {
  await run(
    options.ffmpegPath,
    [
      ...COMMON,
      "-ss",
      (atMs / 1000).toFixed(3),
      "-i",
      input,
      "-frames:v",
      "1",
      "-vf",
      `scale=${POSTER_SIDE}:${POSTER_SIDE}:force_original_aspect_ratio=decrease`,
      "-q:v",
      "5",
      "-f",
      "mjpeg",
      "-y",
      output,
    ],
    options,
    "making the poster",
  );
}

/** Opus in Ogg at 64 kb/s, mono or stereo, metadata dropped. */
export async function transcodeAudio(
  input: string,
  output: string,
  options: FfmpegOptions & { channels: number },
): Promise<void> {
  await run(
    options.ffmpegPath,
    [
      ...COMMON,
      "-i",
      input,
      "-map",
      "0:a:0",
      "-vn",
      ...STRIP,
      "-c:a",
      "libopus",
      "-b:a",
      "64k",
      "-ac",
      String(Math.min(2, options.channels)),
      "-f",
      "ogg",
      "-y",
      output,
    ],
    options,
    "converting the audio",
  );
}

/** Decodes one frame of an image format imagescript cannot read (WebP) to PNG. */
export async function imageToPng(
  input: string,
  output: string,
  options: FfmpegOptions,
): Promise<void> {
  await run(
    options.ffmpegPath,
    [
      ...COMMON,
      "-i",
      input,
      "-frames:v",
      "1",
      "-map_metadata",
      "-1",
      "-f",
      "image2",
      "-c:v",
      "png",
      "-y",
      output,
    ],
    options,
    "reading the image",
  );
}

const WAVEFORM_RATE = 8000;

/**
 * `peaks` loudness peaks in 0..1 (the loudest is 1; silence is all 0) across the whole file, for a
 * player's waveform. Decodes to 8 kHz mono and folds samples into buckets as they stream, so memory
 * stays flat for long recordings.
 */
export async function waveform(
  input: string,
  durationMs: number,
  options: FfmpegOptions,
  peaks = 64,
): Promise<number[]> {
  const child = new Deno.Command(options.ffmpegPath, {
    args: [...COMMON, "-i", input, "-ac", "1", "-ar", String(WAVEFORM_RATE), "-f", "s16le", "-"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    signal: deadline(options),
  }).spawn();
  const expected = Math.max(1, Math.round((durationMs / 1000) * WAVEFORM_RATE));
  const buckets = new Array<number>(peaks).fill(0);
  let index = 0;
  let carry: number | null = null;
  for await (const chunk of child.stdout) {
    let at = 0;
    if (carry !== null) {
      const sample = (chunk[0] << 8 | carry) << 16 >> 16;
      bucket(sample);
      carry = null;
      at = 1;
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (; at + 1 < chunk.length; at += 2) bucket(view.getInt16(at, true));
    if (at < chunk.length) carry = chunk[at];
  }
  const status = await child.status;
  if (!status.success) throw new MediaFailure("reading the audio failed");
  const loudest = Math.max(...buckets);
  return buckets.map((p) => (loudest > 0 ? Math.round((p / loudest) * 1000) / 1000 : 0));

  function bucket(sample: number) {
    const b = Math.min(peaks - 1, Math.floor((index++ * peaks) / expected));
    const level = Math.abs(sample) / 32768;
    if (level > buckets[b]) buckets[b] = level;
  }
}
