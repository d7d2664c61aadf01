import assert from "node:assert/strict";
import { DecryptionError } from "../../src/crypto/envelope.ts";
import { LocalBlobStore } from "../../src/media/blob_store.ts";
import { CHUNK_SIZE, EncryptedBlobs } from "../../src/media/encrypted_blobs.ts";
import { indexOf } from "../support/media.ts";
import { noise } from "../support/media_fixtures.ts";

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "parley-blobs-" });
  const blobs = new EncryptedBlobs(await LocalBlobStore.open(root));
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  return { root, blobs, key, cleanup: () => Deno.remove(root, { recursive: true }) };
}

async function readRange(blobs: EncryptedBlobs, key: CryptoKey, id: string, s: number, e: number) {
  const r = (await blobs.open(key, id, "main"))!;
  return new Uint8Array(await new Response(r.stream(s, e)).arrayBuffer());
}

Deno.test("encrypted blobs round-trip every size and any range, in fixed-size chunks", async () => {
  const { root, blobs, key, cleanup } = await setup();
  try {
    for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]) {
      const plain = noise(size);
      const id = `m${size}`;
      // Written in awkward pieces to cross chunk boundaries inside writes.
      const pieces = async function* () {
        for (let at = 0; at < size; at += 10_007) yield plain.subarray(at, at + 10_007);
      };
      assert.equal(await blobs.write(key, id, "main", pieces()), size);
      assert.deepEqual(await blobs.read(key, id, "main"), plain, `size ${size}`);
      const stored = await Deno.readFile(`${root}/${id.slice(0, 2)}/${id}/main`);
      const chunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));
      assert.equal(stored.length, 8 + size + chunks * 28, "header + per-chunk nonce and tag");
      if (size >= 64) assert.equal(indexOf(stored, plain.subarray(0, 32)), -1, "no plaintext");
      if (size > 2) {
        for (const [s, e] of [[0, 0], [1, size - 2], [size - 1, size - 1]]) {
          assert.deepEqual(await readRange(blobs, key, id, s, e), plain.subarray(s, e + 1));
        }
      }
    }
    const big = noise(3 * CHUNK_SIZE + 5);
    await blobs.write(key, "big", "main", big);
    for (let i = 0; i < 25; i++) {
      const s = Math.floor(Math.random() * big.length);
      const e = s + Math.floor(Math.random() * (big.length - s));
      assert.deepEqual(await readRange(blobs, key, "big", s, e), big.subarray(s, e + 1));
    }
    assert.equal(await blobs.open(key, "none", "main"), null);
  } finally {
    await cleanup();
  }
});

Deno.test("tampering, reordering, truncation, another key or another context all fail to open", async () => {
  const { root, blobs, key, cleanup } = await setup();
  try {
    const plain = noise(3 * CHUNK_SIZE + 100);
    await blobs.write(key, "orig", "main", plain);
    const path = `${root}/or/orig/main`;
    const pristine = await Deno.readFile(path);
    const stride = CHUNK_SIZE + 28;
    const attempt = async (bytes: Uint8Array, what: string) => {
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        async () => await blobs.read(key, "orig", "main"),
        DecryptionError,
        what,
      );
    };
    const flipped = pristine.slice();
    flipped[8 + stride + 40] ^= 1;
    await attempt(flipped, "a flipped bit");
    const swapped = pristine.slice();
    swapped.set(pristine.subarray(8, 8 + stride), 8 + stride);
    swapped.set(pristine.subarray(8 + stride, 8 + 2 * stride), 8);
    await attempt(swapped, "two chunks swapped");
    await attempt(pristine.slice(0, 8 + 3 * stride), "the last chunk cut off");
    await attempt(pristine.slice(0, pristine.length - 5), "a few bytes cut off");
    await Deno.writeFile(path, pristine);
    const other = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    await assert.rejects(async () => await blobs.read(other, "orig", "main"), DecryptionError);
    await Deno.mkdir(`${root}/mo/moved`, { recursive: true });
    await Deno.writeFile(`${root}/mo/moved/main`, pristine);
    await assert.rejects(async () => await blobs.read(key, "moved", "main"), DecryptionError);
    await Deno.writeFile(`${root}/or/orig/thumb`, pristine);
    await assert.rejects(async () => await blobs.read(key, "orig", "thumb"), DecryptionError);
    assert.deepEqual(await blobs.read(key, "orig", "main"), plain, "the original still opens");
  } finally {
    await cleanup();
  }
});

Deno.test("an aborted write leaves nothing; a committed one replaces atomically", async () => {
  const { root, blobs, key, cleanup } = await setup();
  try {
    const w = await blobs.writer(key, "half", "original");
    await w.write(noise(100_000));
    await w.abort();
    assert.equal(await blobs.open(key, "half", "original"), null);
    const left = [...Deno.readDirSync(`${root}/.partial`)];
    assert.deepEqual(left, [], "no partial file");
    await blobs.write(key, "swap", "main", noise(10));
    const next = noise(20);
    await blobs.write(key, "swap", "main", next);
    assert.deepEqual(await blobs.read(key, "swap", "main"), next);
    await blobs.delete("swap", "main");
    assert.equal(await blobs.open(key, "swap", "main"), null);
  } finally {
    await cleanup();
  }
});
