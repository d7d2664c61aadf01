/// <reference lib="deno.worker" />
// Decodes, orients, downscales and re-encodes one image off the main event loop. Re-encoding from
// pixels drops every metadata segment (EXIF, GPS, XMP, ICC comments) of the upload.
import heicDecode from "heic-decode";
import { decode, GIF, Image } from "imagescript";
import { imageSize, jpegOrientation } from "./image_header.ts";
import type { EncodedImage, ImageJob, ImageJobResult } from "./image_pool.ts";

function fit(width: number, height: number, side: number): [number, number] {
  const scale = Math.min(1, side / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** Applies an EXIF orientation by remapping pixels (imagescript's rotate distorts non-squares). */
function orient(img: Image, orientation: number): Image {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h } = img;
  const swap = orientation >= 5;
  const out = new Image(swap ? h : w, swap ? w : h);
  const src = new Uint32Array(img.bitmap.buffer, img.bitmap.byteOffset, w * h);
  const dst = new Uint32Array(out.bitmap.buffer, out.bitmap.byteOffset, w * h);
  const ow = out.width;
  for (let dy = 0; dy < out.height; dy++) {
    for (let dx = 0; dx < ow; dx++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          [sx, sy] = [w - 1 - dx, dy];
          break;
        case 3:
          [sx, sy] = [w - 1 - dx, h - 1 - dy];
          break;
        case 4:
          [sx, sy] = [dx, h - 1 - dy];
          break;
        case 5:
          [sx, sy] = [dy, dx];
          break;
        case 6:
          [sx, sy] = [dy, h - 1 - dx];
          break;
        case 7:
          [sx, sy] = [w - 1 - dy, h - 1 - dx];
          break;
        default:
          [sx, sy] = [w - 1 - dy, dx];
      }
      dst[dy * ow + dx] = src[sy * w + sx];
    }
  }
  return out;
}

function hasAlpha(img: Image): boolean {
  const px = img.bitmap;
  for (let i = 3; i < px.length; i += 4) if (px[i] !== 255) return true;
  return false;
}

async function encode(img: Image, format: ImageJob["format"]): Promise<EncodedImage> {
  const bytes = format === "jpeg"
    ? await img.encodeJPEG(85)
    : format === "webp"
    ? await img.encodeWEBP(82)
    : await img.encode(1);
  return { bytes, mime: `image/${format}`, width: img.width, height: img.height };
}

interface HeifImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
const heif = heicDecode as unknown as {
  all(input: { buffer: Uint8Array }): Promise<HeifImage[] & { dispose(): void }>;
};

/** The primary image of a HEIC file (libheif applies its rotation and mirroring). */
async function decodeHeic(bytes: Uint8Array, maxPixels: number): Promise<Image | string> {
  const images = await heif.all({ buffer: bytes });
  try {
    const primary = images[0];
    if (primary.width * primary.height > maxPixels) return "the image is too large";
    const { width, height, data } = await primary.decode();
    const img = new Image(width, height);
    img.bitmap.set(data);
    return img;
  } finally {
    images.dispose();
  }
}

async function processImage(job: ImageJob): Promise<ImageJobResult> {
  const size = imageSize(job.bytes);
  if (size && size.width * size.height > job.maxPixels) {
    return { refused: `the image is too large (${size.width}×${size.height} pixels)` };
  }
  let img: Image;
  if (job.heic) {
    const found = await decodeHeic(job.bytes, job.maxPixels);
    if (typeof found === "string") return { refused: found };
    img = found;
  } else {
    const decoded = await decode(job.bytes);
    if (decoded instanceof GIF) {
      if (decoded.length > 1) return { animated: true };
      img = decoded[0] as unknown as Image;
    } else img = decoded as Image;
  }
  if (img.width * img.height > job.maxPixels) return { refused: "the image is too large" };
  img = orient(img, jpegOrientation(job.bytes));
  const [w, h] = fit(img.width, img.height, job.maxSide);
  if (w !== img.width || h !== img.height) img.resize(w, h);
  const alpha = hasAlpha(img);
  const format = job.format === "jpeg" && alpha ? "png" : job.format;
  const main = await encode(img, format);
  const [tw, th] = fit(img.width, img.height, job.thumbSide);
  const thumb = await encode(img.resize(tw, th), alpha ? "png" : "jpeg");
  return { main, thumb };
}

self.onmessage = async (e: MessageEvent<ImageJob>) => {
  try {
    const result = await processImage(e.data);
    const transfer = "main" in result ? [result.main.bytes.buffer, result.thumb.bytes.buffer] : [];
    self.postMessage({ result }, { transfer: transfer as ArrayBuffer[] });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
