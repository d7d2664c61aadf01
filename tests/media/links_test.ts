import assert from "node:assert/strict";
import { parseRange } from "../../routes/_range.ts";
import { contentDisposition, sanitizeFilename } from "../../src/media/filename.ts";
import { UrlSigner } from "../../src/media/signed_url.ts";

Deno.test("UrlSigner: links verify until they expire; any change breaks them", async () => {
  const signer = new UrlSigner(crypto.getRandomValues(new Uint8Array(32)), 60, "https://x.test");
  const now = Date.now();
  const url = new URL(await signer.sign("m1", "main", now));
  assert.equal(url.origin + url.pathname, "https://x.test/v1/media/m1/content");
  const exp = url.searchParams.get("exp")!;
  const sig = url.searchParams.get("sig")!;
  assert.equal(Number(exp), Math.floor(now / 1000) + 60);
  assert.equal(await signer.verify("m1", "main", exp, sig, now), true);
  assert.equal(await signer.verify("m1", "main", exp, sig, now + 61_000), false, "expired");
  assert.equal(await signer.verify("m2", "main", exp, sig, now), false, "another item");
  assert.equal(await signer.verify("m1", "thumb", exp, sig, now), false, "another variant");
  assert.equal(await signer.verify("m1", "main", String(Number(exp) + 1), sig, now), false);
  assert.equal(await signer.verify("m1", "main", exp, sig + "A", now), false);
  assert.equal(await signer.verify("m1", "main", exp, "!!", now), false);
  const other = new UrlSigner(crypto.getRandomValues(new Uint8Array(32)), 60, "");
  assert.equal(await other.verify("m1", "main", exp, sig, now), false, "another key");
  assert.match(await other.sign("m1", "thumb"), /^\/v1\/media\/m1\/thumbnail\?exp=\d+&sig=/);
});

Deno.test("parseRange(): single byte ranges, suffixes, and what is unsatisfiable", () => {
  const size = 1000;
  assert.deepEqual(parseRange(undefined, size), { kind: "full" });
  assert.deepEqual(parseRange("items=0-5", size), { kind: "full" });
  assert.deepEqual(parseRange("bytes=0-1,5-6", size), { kind: "full" });
  assert.deepEqual(parseRange("bytes=0-0", size), { kind: "partial", start: 0, end: 0 });
  assert.deepEqual(parseRange("bytes=10-", size), { kind: "partial", start: 10, end: 999 });
  assert.deepEqual(parseRange("bytes=-10", size), { kind: "partial", start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=-5000", size), { kind: "partial", start: 0, end: 999 });
  assert.deepEqual(parseRange("bytes=990-5000", size), { kind: "partial", start: 990, end: 999 });
  for (const bad of ["bytes=1000-", "bytes=5-4", "bytes=-0", "bytes=x-1", "bytes=-", "bytes="]) {
    assert.deepEqual(parseRange(bad, size), { kind: "unsatisfiable" }, bad);
  }
  assert.deepEqual(parseRange("bytes=0-", 0), { kind: "unsatisfiable" });
});

Deno.test("file names: path parts, controls and direction overrides go; RFC 6266 header", () => {
  assert.equal(sanitizeFilename("C:\\Users\\me\\photo.jpg", "image/jpeg"), "photo.jpg");
  assert.equal(sanitizeFilename("../../..", "image/jpeg"), "file.jpg");
  assert.equal(sanitizeFilename("  .hidden ", "text/plain"), "hidden");
  assert.equal(sanitizeFilename("invoice\u202Efdp.exe", "application/pdf"), "invoice_fdp.exe");
  assert.equal(sanitizeFilename(null, "audio/ogg"), "file.ogg");
  const long = sanitizeFilename("a".repeat(300) + ".pdf", "application/pdf");
  assert.equal(long.length, 120);
  assert.ok(long.endsWith(".pdf"));
  assert.equal(
    contentDisposition("inline", "naïve 100%.txt"),
    `inline; filename="na_ve 100_.txt"; filename*=UTF-8''na%C3%AFve%20100%25.txt`,
  );
});
