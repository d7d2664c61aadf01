import { WorkerPool } from "../worker_pool.ts";

/** One encoded image with its pixel size. */
export interface EncodedImage {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
}

/** What the image worker is asked to do. */
export interface ImageJob {
  bytes: Uint8Array;
  /** HEIC goes through libheif; everything else through imagescript's decoders. */
  heic: boolean;
  /** Output format of the main image (PNG instead of JPEG when the image has transparency). */
  format: "jpeg" | "png" | "webp";
  maxSide: number;
  thumbSide: number;
  maxPixels: number;
}

/**
 * What came of it: the re-encoded image and its thumbnail; `animated` for a GIF with more than one
 * frame (it goes the video way); `refused` with a reason a user may read.
 */
export type ImageJobResult =
  | { main: EncodedImage; thumb: EncodedImage }
  | { animated: true }
  | { refused: string };

/** Longest side of a processed image, and of its thumbnail. */
export const IMAGE_MAX_SIDE = 2048;
export const THUMB_SIDE = 320;
/** Images with more pixels are refused before decoding (decompression bombs). */
export const MAX_PIXELS = 80_000_000;

/**
 * How many image workers to run for MEDIA_CONCURRENCY jobs: one fewer than the cores (at least one),
 * so a core is always left to the event loop that serves chat (measured: on 2 cores, two busy workers doubled
 * the p99 of a WebSocket ping while one kept it near idle).
 */
export function imageWorkerCount(
  concurrency: number,
  cores = navigator.hardwareConcurrency,
): number {
  return Math.max(1, Math.min(concurrency, cores - 1));
}

/**
 * Decodes and re-encodes images in a pool of Web Workers (imagescript), so the event loop keeps
 * serving chat while images are processed. Output drops all metadata of the input.
 */
export class ImagePool {
  #pool: WorkerPool<ImageJob, ImageJobResult>;

  constructor(workers: number) {
    this.#pool = new WorkerPool(new URL("./image_worker.ts", import.meta.url), workers);
  }

  /** Processes one image; the input bytes are transferred to the worker (unusable afterwards). */
  process(
    bytes: Uint8Array,
    options: { format: ImageJob["format"]; heic?: boolean; timeoutMs: number },
  ): Promise<ImageJobResult> {
    const job: ImageJob = {
      bytes,
      heic: options.heic ?? false,
      format: options.format,
      maxSide: IMAGE_MAX_SIDE,
      thumbSide: THUMB_SIDE,
      maxPixels: MAX_PIXELS,
    };
    return this.#pool.run(job, {
      transfer: [bytes.buffer as ArrayBuffer],
      timeoutMs: options.timeoutMs,
    });
  }

  close(): void {
    this.#pool.close();
  }
}
