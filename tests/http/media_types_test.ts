import assert from "node:assert/strict";
import { imageSize } from "../../src/media/image_header.ts";
import {
  EXIF_MARKER,
  gif,
  heic,
  jpegWithGps,
  mp4,
  noise,
  odt,
  office,
  pdf,
  png,
  tone,
  webm,
  webp,
} from "../support/media_fixtures.ts";
import { fetchLink, filesUnder, indexOf, uploadSettled } from "../support/media.ts";
import { registerUser, SharedServer } from "../support/server.ts";

/** One server for the file; each test registers its own user. */
const shared = new SharedServer();

async function user() {
  return (await registerUser((await shared.get()).url)).client;
}

async function download(url: string) {
  const res = await fetchLink((await shared.get()).url, url);
  assert.equal(res.status, 200, `download ${url}`);
  return res;
}

shared.test("a JPEG is re-encoded without EXIF/GPS, oriented, downscaled to 2048 px, with a 320 px thumbnail", async (s) => {
  const c = await user();
  const original = await jpegWithGps(3000, 1500, 6);
  assert.ok(indexOf(original, new TextEncoder().encode(EXIF_MARKER)) > 0, "fixture has EXIF");
  const m = await uploadSettled(c, original, { type: "image/jpeg", filename: "holiday.jpg" });
  assert.equal(m.status, "ready", JSON.stringify(m));
  assert.equal(m.kind, "image");
  assert.equal(m.mime, "image/jpeg");
  // Orientation 6 turns the 3000×1500 picture upright: 1500×3000, then at most 2048 px.
  assert.deepEqual([m.width, m.height], [1024, 2048]);
  const main = await download(m.url);
  assert.equal(main.headers.get("content-type"), "image/jpeg");
  assert.equal(main.bytes.length, m.size);
  assert.deepEqual(imageSize(main.bytes), { width: 1024, height: 2048 });
  assert.equal(indexOf(main.bytes, new TextEncoder().encode("Exif")), -1, "no EXIF segment");
  assert.equal(indexOf(main.bytes, new TextEncoder().encode(EXIF_MARKER)), -1);
  const thumb = await download(m.thumbnailUrl);
  assert.deepEqual(imageSize(thumb.bytes), { width: 160, height: 320 });
  assert.equal(indexOf(thumb.bytes, new TextEncoder().encode("Exif")), -1);
  const stored = (await filesUnder(`${s.dataDir}/media`))
    .filter((f) => f.includes(m.id)).map((f) => f.slice(f.lastIndexOf("/") + 1)).sort();
  assert.deepEqual(stored, ["main", "thumb"], "the original upload is gone");
});

shared.test("PNG (with transparency), WebP and a still GIF become images with thumbnails", async () => {
  const c = await user();
  const cases = [
    { bytes: await png(400, 300, 128), type: "image/png", mime: "image/png", size: [400, 300] },
    { bytes: await png(2500, 500), type: "image/png", mime: "image/png", size: [2048, 410] },
    { bytes: await webp(640, 480), type: "image/webp", mime: "image/webp", size: [640, 480] },
    { bytes: await gif(1), type: "image/gif", mime: "image/png", size: [64, 48] },
  ];
  for (const k of cases) {
    const m = await uploadSettled(c, k.bytes, { type: k.type, filename: "picture" });
    assert.equal(m.status, "ready", JSON.stringify(m));
    assert.equal(m.kind, "image");
    assert.equal(m.mime, k.mime, k.type);
    assert.deepEqual([m.width, m.height], k.size, k.type);
    const thumb = imageSize((await download(m.thumbnailUrl)).bytes)!;
    assert.equal(Math.max(thumb.width, thumb.height), Math.min(320, Math.max(...k.size)));
    assert.ok((await download(m.url)).bytes.length === m.size);
  }
});

shared.test("a HEIC photo becomes a JPEG (libheif decode) with a thumbnail and a .jpg name", async () => {
  const c = await user();
  const m = await uploadSettled(c, await heic(1200, 900), { filename: "IMG_0001.HEIC" });
  assert.equal(m.status, "ready", JSON.stringify(m));
  assert.equal(m.kind, "image");
  assert.equal(m.mime, "image/jpeg");
  assert.equal(m.filename, "IMG_0001.jpg");
  assert.deepEqual([m.width, m.height], [1200, 900]);
  const main = await download(m.url);
  assert.deepEqual(imageSize(main.bytes), { width: 1200, height: 900 });
  assert.deepEqual(imageSize((await download(m.thumbnailUrl)).bytes), {
    width: 320,
    height: 240,
  });
});

shared.test("an animated GIF becomes a silent looping MP4 with a poster", async () => {
  const c = await user();
  const m = await uploadSettled(c, await gif(6), { type: "image/gif", filename: "dance.gif" });
  assert.equal(m.status, "ready", JSON.stringify(m));
  assert.equal(m.kind, "video");
  assert.equal(m.mime, "video/mp4");
  assert.equal(m.animated, true);
  assert.equal(m.filename, "dance.mp4");
  assert.ok(m.durationMs > 0);
  assert.ok(m.thumbnailUrl);
});

shared.test("video (MP4, MOV, WebM) becomes H.264/AAC MP4 with faststart, a JPEG poster, duration and size", async () => {
  const c = await user();
  const cases: Array<[Uint8Array, string, string]> = [
    [await mp4(2, "640x360"), "video/mp4", "clip.mp4"],
    [await mp4(1, "320x240", "mov"), "video/quicktime", "clip.mov"],
    [await webm(1), "video/webm", "clip.webm"],
  ];
  for (const [bytes, type, filename] of cases) {
    const m = await uploadSettled(c, bytes, { type, filename });
    assert.equal(m.status, "ready", `${type}: ${JSON.stringify(m)}`);
    assert.equal(m.kind, "video");
    assert.equal(m.mime, "video/mp4");
    assert.ok(m.width > 0 && m.height > 0);
    assert.ok(
      Math.abs(m.durationMs - (type === "video/mp4" ? 2000 : 1000)) < 250,
      `${m.durationMs}`,
    );
    const main = await download(m.url);
    assert.equal(main.headers.get("content-type"), "video/mp4");
    // faststart: the movie header comes before the media data.
    const moov = indexOf(main.bytes, new TextEncoder().encode("moov"));
    const mdat = indexOf(main.bytes, new TextEncoder().encode("mdat"));
    assert.ok(moov > 0 && moov < mdat, "moov before mdat");
    assert.ok(indexOf(main.bytes, new TextEncoder().encode("avc1")) > 0, "H.264");
    assert.ok(indexOf(main.bytes, new TextEncoder().encode("mp4a")) > 0, "AAC");
    const poster = await download(m.thumbnailUrl);
    assert.equal(poster.headers.get("content-type"), "image/jpeg");
    const size = imageSize(poster.bytes)!;
    assert.ok(Math.max(size.width, size.height) <= 320 && size.width > 0);
  }
});

shared.test("audio (Ogg Opus, MP3, M4A, WAV, WebM) becomes Ogg Opus with duration and a 64-peak waveform", async () => {
  const c = await user();
  const cases: Array<[Uint8Array, string, string]> = [
    [await tone("ogg"), "audio/ogg", "voice.ogg"],
    [await tone("mp3"), "audio/mpeg", "song.mp3"],
    [await tone("m4a"), "audio/mp4", "memo.m4a"],
    [await tone("wav"), "audio/wav", "raw.wav"],
    [await tone("webm"), "audio/webm", "voice.webm"],
  ];
  for (const [bytes, type, filename] of cases) {
    const m = await uploadSettled(c, bytes, { type, filename });
    assert.equal(m.status, "ready", `${type}: ${JSON.stringify(m)}`);
    assert.equal(m.kind, "audio", type);
    assert.equal(m.mime, "audio/ogg");
    assert.ok(Math.abs(m.durationMs - 2000) < 150, `${type} duration ${m.durationMs}`);
    assert.equal(m.waveform.length, 64);
    assert.ok(m.waveform.every((p: number) => p >= 0 && p <= 1));
    assert.ok(
      m.waveform.filter((p: number) => p > 0.5).length > 50,
      "a steady tone is loud throughout",
    );
    const main = await download(m.url);
    assert.equal(main.headers.get("content-type"), "audio/ogg");
    assert.equal(new TextDecoder().decode(main.bytes.subarray(0, 4)), "OggS");
    assert.ok(indexOf(main.bytes, new TextEncoder().encode("OpusHead")) > 0);
  }
});

shared.test("documents are stored as uploaded: PDF with page count, docx, xlsx, odt, plain text", async () => {
  const c = await user();
  const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  const cases: Array<[Uint8Array, string, string, string]> = [
    [pdf(3), "application/pdf", "report.pdf", "application/pdf"],
    [office("docx"), docx, "letter.docx", docx],
    [office("xlsx"), "application/octet-stream", "sheet.xlsx", xlsx],
    [
      odt(),
      "application/vnd.oasis.opendocument.text",
      "essay.odt",
      "application/vnd.oasis.opendocument.text",
    ],
    [
      new TextEncoder().encode("Grüße, 世界! 👋\n".repeat(500)),
      "text/plain",
      "notes.md",
      "text/plain",
    ],
  ];
  for (const [bytes, type, filename, mime] of cases) {
    const m = await uploadSettled(c, bytes, { type, filename, multipart: type !== "text/plain" });
    assert.equal(m.status, "ready", JSON.stringify(m));
    assert.equal(m.kind, "document");
    assert.equal(m.mime, mime);
    assert.equal(m.size, bytes.length);
    assert.equal(m.filename, filename);
    assert.equal(m.thumbnailUrl, undefined);
    if (mime === "application/pdf") assert.equal(m.pageCount, 3);
    const main = await download(m.url);
    assert.deepEqual(main.bytes, bytes, "documents are served as uploaded");
    assert.match(main.headers.get("content-disposition")!, /^attachment; /);
    if (mime === "text/plain") {
      assert.equal(main.headers.get("content-type"), "text/plain; charset=utf-8");
    }
  }
});

shared.test("damaged files fail with a reason; nothing of them is kept and their link finds nothing", async (s) => {
  const c = await user();
  const fakeVideo = new Uint8Array(50_000);
  fakeVideo.set(await mp4(1).then((b) => b.subarray(0, 32)));
  fakeVideo.set(noise(40_000), 5_000);
  const fakeJpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...noise(20_000)]);
  const cases: Array<[Uint8Array, string, RegExp]> = [
    [fakeVideo, "video/mp4", /video|file|damaged/],
    [fakeJpeg, "image/jpeg", /image could not be decoded/],
    [
      new Uint8Array([
        ...new TextEncoder().encode("OggS"),
        ...new Uint8Array(24),
        ...new TextEncoder().encode("OpusHead"),
        ...noise(3000),
      ]),
      "audio/ogg",
      /./,
    ],
  ];
  for (const [bytes, type, reason] of cases) {
    const m = await uploadSettled(c, bytes, { type });
    assert.equal(m.status, "failed", `${type}: ${JSON.stringify(m)}`);
    assert.match(m.failureReason, reason);
    assert.equal(m.thumbnailUrl, undefined);
    const files = await filesUnder(`${s.dataDir}/media`);
    assert.deepEqual(files.filter((f) => f.includes(m.id)), [], "no file left");
    assert.equal((await fetchLink(s.url, m.url)).status, 404);
  }
});

shared.closeTest("media type tests: close the shared server");
