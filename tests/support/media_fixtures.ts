import { strToU8, zipSync } from "fflate";
import { Frame, GIF, Image } from "imagescript";

/** A marker placed in EXIF metadata; it must never survive processing. */
export const EXIF_MARKER = "PARLEY-GPS-MARKER-51.5007N";

/** A colourful test picture of the given size (noise-free gradients compress like photos). */
export function picture(width: number, height: number, alpha = 255): Image {
  const img = new Image(width, height);
  img.fill((x, y) => Image.rgbaToColor((x * 7) % 256, (y * 5) % 256, (x + y) % 256, alpha));
  return img;
}

export async function jpeg(width: number, height: number): Promise<Uint8Array> {
  return await picture(width, height).encodeJPEG(90);
}

export async function png(width: number, height: number, alpha = 255): Promise<Uint8Array> {
  return await picture(width, height, alpha).encode();
}

export async function webp(width: number, height: number): Promise<Uint8Array> {
  return await picture(width, height).encodeWEBP(90);
}

export async function gif(frames: number): Promise<Uint8Array> {
  const list = Array.from({ length: frames }, (_, i) => {
    const f = new Frame(64, 48, 100);
    f.fill((x, y) => Image.rgbaToColor((x * 4 + i * 60) % 256, (y * 5) % 256, 90, 255));
    return f;
  });
  return await new GIF(list).encode();
}

/** An EXIF APP1 segment with an image description (the marker), an orientation and GPS tags. */
function exifSegment(orientation: number): Uint8Array {
  const marker = strToU8(EXIF_MARKER + "\0");
  // TIFF (little endian): header 8, IFD0 with 3 entries at 8, then the GPS IFD, then data.
  const ifd0 = 8;
  const ifd0Size = 2 + 3 * 12 + 4;
  const gpsIfd = ifd0 + ifd0Size;
  const gpsSize = 2 + 2 * 12 + 4;
  const markerAt = gpsIfd + gpsSize;
  const latAt = markerAt + marker.length;
  const tiff = new Uint8Array(latAt + 24);
  const v = new DataView(tiff.buffer);
  tiff.set([0x49, 0x49, 0x2a, 0x00]);
  v.setUint32(4, ifd0, true);
  const entry = (at: number, tag: number, type: number, count: number, value: number) => {
    v.setUint16(at, tag, true);
    v.setUint16(at + 2, type, true);
    v.setUint32(at + 4, count, true);
    v.setUint32(at + 8, value, true);
  };
  v.setUint16(ifd0, 3, true);
  entry(ifd0 + 2, 0x010e, 2, marker.length, markerAt); // ImageDescription
  entry(ifd0 + 14, 0x0112, 3, 1, orientation); // Orientation (SHORT in the value field)
  entry(ifd0 + 26, 0x8825, 4, 1, gpsIfd); // GPS IFD pointer
  v.setUint16(gpsIfd, 2, true);
  entry(gpsIfd + 2, 0x0001, 2, 2, 0x4e); // GPSLatitudeRef "N"
  entry(gpsIfd + 14, 0x0002, 5, 3, latAt); // GPSLatitude: 3 rationals
  tiff.set(marker, markerAt);
  [51, 1, 30, 1, 2, 1].forEach((n, i) => v.setUint32(latAt + i * 4, n, true));
  const payload = new Uint8Array(6 + tiff.length);
  payload.set(strToU8("Exif\0\0"));
  payload.set(tiff, 6);
  const segment = new Uint8Array(4 + payload.length);
  segment.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  segment.set(payload, 4);
  return segment;
}

/** A JPEG with an APP1 Exif segment (GPS position, description marker, orientation) spliced in. */
export async function jpegWithGps(
  width: number,
  height: number,
  orientation = 1,
): Promise<Uint8Array> {
  const plain = await jpeg(width, height);
  const app1 = exifSegment(orientation);
  const out = new Uint8Array(plain.length + app1.length);
  out.set(plain.subarray(0, 2));
  out.set(app1, 2);
  out.set(plain.subarray(2), 2 + app1.length);
  return out;
}

/** A HEIC photo made with libheif's `heif-enc` (Debian package libheif-examples). */
export async function heic(width: number, height: number): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "parley-fixture-" });
  try {
    await Deno.writeFile(`${dir}/in.png`, await png(width, height));
    const r = await new Deno.Command("heif-enc", {
      args: ["-q", "80", "-o", `${dir}/out.heic`, `${dir}/in.png`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`heif-enc: ${new TextDecoder().decode(r.stderr)}`);
    return await Deno.readFile(`${dir}/out.heic`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs ffmpeg with lavfi sources and returns the output file's bytes. */
export async function ffmpegFixture(args: string[], ext: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "parley-fixture-" });
  try {
    const out = `${dir}/out.${ext}`;
    const r = await new Deno.Command("ffmpeg", {
      args: ["-hide_banner", "-loglevel", "error", "-y", ...args, out],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`ffmpeg fixture: ${new TextDecoder().decode(r.stderr)}`);
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const testsrc = (seconds: number, size = "320x240") => [
  "-f",
  "lavfi",
  "-i",
  `testsrc=size=${size}:rate=25:duration=${seconds}`,
];
const sine = (seconds: number) => ["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`];

/** A video with sound: H.264/AAC in MP4 (or MOV). */
export function mp4(seconds = 2, size = "320x240", ext = "mp4"): Promise<Uint8Array> {
  return ffmpegFixture([
    ...testsrc(seconds, size),
    ...sine(seconds),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
  ], ext);
}

/** A VP8/Opus WebM video. */
export function webm(seconds = 1): Promise<Uint8Array> {
  return ffmpegFixture([
    ...testsrc(seconds),
    ...sine(seconds),
    "-c:v",
    "libvpx",
    "-deadline",
    "realtime",
    "-c:a",
    "libopus",
    "-shortest",
  ], "webm");
}

/** A sine tone in an audio format: ogg (Opus), mp3, m4a (AAC), wav, or webm (Opus). */
export function tone(
  ext: "ogg" | "mp3" | "m4a" | "wav" | "webm",
  seconds = 2,
): Promise<Uint8Array> {
  const codec: Record<string, string[]> = {
    ogg: ["-c:a", "libopus"],
    mp3: ["-c:a", "libmp3lame"],
    m4a: ["-c:a", "aac"],
    wav: ["-c:a", "pcm_s16le"],
    webm: ["-c:a", "libopus"],
  };
  return ffmpegFixture([...sine(seconds), ...codec[ext]], ext);
}

/** A minimal valid PDF with `pages` pages and a distinctive text. */
export function pdf(pages: number, text = "Parley test document"): Uint8Array {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${
      Array.from({ length: pages }, (_, i) => `${3 + i} 0 R`).join(" ")
    }] /Count ${pages} >>`,
    ...Array.from(
      { length: pages },
      () => `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents (${text}) >>`,
    ),
  ];
  let body = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("") +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return strToU8(body);
}

const OOXML_MAIN = {
  docx: ["word/document.xml", "wordprocessingml.document.main+xml"],
  xlsx: ["xl/workbook.xml", "spreadsheetml.sheet.main+xml"],
} as const;

/** A zip-based Office file (docx or xlsx) built with fflate; `marker` goes into its main part. */
export function office(type: "docx" | "xlsx", marker = "Parley office content"): Uint8Array {
  const [part, contentType] = OOXML_MAIN[type];
  return zipSync({
    "[Content_Types].xml": strToU8(
      `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        `<Override PartName="/${part}" ContentType="application/vnd.openxmlformats-officedocument.${contentType}"/></Types>`,
    ),
    [part]: strToU8(`<?xml version="1.0"?><root>${marker.repeat(50)}</root>`),
  });
}

/** An OpenDocument text file: `mimetype` first, stored. */
export function odt(): Uint8Array {
  return zipSync({
    mimetype: [strToU8("application/vnd.oasis.opendocument.text"), { level: 0 }],
    "content.xml": strToU8("<office:document-content/>"),
  });
}

/** A zip that is not an Office document. */
export function plainZip(): Uint8Array {
  return zipSync({ "notes.txt": strToU8("just a zip") });
}

/** Random bytes. */
export function noise(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) {
    crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  }
  return out;
}
