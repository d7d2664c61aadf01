import assert from "node:assert/strict";
import { reconcile, sniff } from "../../src/media/sniff.ts";
import { gif, jpeg, mp4, office, pdf, png, tone, webm, webp } from "../support/media_fixtures.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const size = 16 + compatible.length * 4;
  const out = new Uint8Array(size + 8);
  new DataView(out.buffer).setUint32(0, size);
  out.set(ascii(`ftyp${major}`), 4);
  compatible.forEach((b, i) => out.set(ascii(b), 16 + i * 4));
  return out;
}

Deno.test("sniff() recognises every accepted type from its leading bytes", async () => {
  const cases: Array<[Uint8Array, string, string]> = [
    [await jpeg(8, 8), "image", "image/jpeg"],
    [await png(8, 8), "image", "image/png"],
    [await gif(2), "image", "image/gif"],
    [await webp(8, 8), "image", "image/webp"],
    [ftyp("heic", "mif1", "heic"), "image", "image/heic"],
    [await mp4(1), "video", "video/mp4"],
    [ftyp("qt  "), "video", "video/quicktime"],
    [await webm(1), "video", "video/webm"],
    [await tone("ogg", 1), "audio", "audio/ogg"],
    [await tone("mp3", 1), "audio", "audio/mpeg"],
    [new Uint8Array([0xff, 0xfb, 0x90, 0x00]), "audio", "audio/mpeg"],
    [await tone("m4a", 1), "audio", "audio/mp4"],
    [await tone("wav", 1), "audio", "audio/wav"],
    [pdf(1), "document", "application/pdf"],
    [office("docx"), "document", "application/zip"],
    [ascii("hello, world"), "document", "text/plain"],
  ];
  for (const [bytes, kind, mime] of cases) {
    const found = sniff(bytes.subarray(0, 4096), bytes.length <= 4096);
    assert.equal(found?.kind, kind, mime);
    assert.equal(found?.mime, mime);
  }
});

Deno.test("sniff() refuses what Parley does not take", () => {
  const refused: Array<[string, Uint8Array]> = [
    ["empty", new Uint8Array(0)],
    ["ELF", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])],
    ["AVIF", ftyp("avif", "mif1", "avif")],
    ["Matroska", new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, ...ascii("\x42\x82\x88matroska")])],
    ["Ogg Theora", ascii("OggS\0\x02\0\0\0\0\0\0\0\0\x80theora")],
    ["NUL in text", ascii("hello\0world")],
    ["not UTF-8", new Uint8Array([0x68, 0x69, 0xc3, 0x28, 0x41])],
    ["ADTS AAC", new Uint8Array([0xff, 0xf1, 0x50, 0x80])],
  ];
  for (const [what, bytes] of refused) assert.equal(sniff(bytes, true), null, what);
  const cut = ascii("caf\u00e9").subarray(0, 4);
  assert.equal(sniff(cut, false)?.mime, "text/plain", "a character cut at the sniff boundary");
  assert.equal(sniff(cut, true), null, "but not at the end of the file");
});

Deno.test("reconcile(): the declared type must agree with the bytes; containers follow audio hints", async () => {
  const video = sniff(await mp4(1), false)!;
  const image = sniff(await jpeg(8, 8), true)!;
  const doc = sniff(pdf(1), true)!;
  const mp3 = sniff(await tone("mp3", 1), false)!;
  assert.equal(reconcile(video, "video/mp4", "a.mp4")?.kind, "video");
  assert.equal(reconcile(video, null, "a.mp4")?.kind, "video");
  assert.deepEqual(reconcile(video, "audio/mp4", "a.mp4"), {
    kind: "audio",
    mime: "audio/mp4",
    needs: "av",
  });
  assert.equal(reconcile(video, "application/octet-stream", "memo.m4a")?.kind, "audio");
  assert.equal(reconcile(video, "image/png", "a.png"), null);
  assert.equal(reconcile(image, "image/png; charset=x", "a"), image, "any image type for an image");
  assert.equal(reconcile(image, "video/mp4", "a"), null);
  assert.equal(reconcile(doc, "application/pdf", "a"), doc);
  assert.equal(reconcile(doc, "image/png", "a"), null);
  assert.equal(reconcile(doc, "text/plain", "a"), null);
  assert.equal(reconcile(mp3, "audio/mpeg", "a"), mp3);
  assert.equal(reconcile(mp3, "video/mp4", "a"), null);
});
