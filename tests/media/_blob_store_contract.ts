import assert from "node:assert/strict";
import type { BlobStore } from "../../src/media/blob_store.ts";
import { PART_BYTES } from "../../src/media/s3_blob_store.ts";

/** Registers a test of the contract against a store `open()` makes (and `close()` disposes of). */
export type BlobContractTest = (name: string, fn: (store: BlobStore) => Promise<void>) => void;

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Writes `data` in pieces through one scratch buffer that is overwritten after each write. */
async function put(store: BlobStore, key: string, data: Uint8Array, chunk = 64 * 1024) {
  const w = await store.create(key);
  const scratch = new Uint8Array(chunk);
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.subarray(at, at + chunk);
    scratch.set(piece);
    await w.write(scratch.subarray(0, piece.length));
    scratch.fill(0xee);
  }
  await w.commit();
}

async function readAll(store: BlobStore, key: string): Promise<Uint8Array | null> {
  const r = await store.open(key);
  if (!r) return null;
  try {
    return await r.readAt(0, r.size);
  } finally {
    r.close();
  }
}

/** Byte equality without a per-byte diff (assert.deepEqual is slow on megabytes). */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

let n = 0;
const key = () => `k${Date.now().toString(36)}${(n++).toString(36)}/main`;

/** The behaviour every {@link BlobStore} adapter must have. */
export function blobStoreContract(test: BlobContractTest): void {
  test("a committed blob reads back byte for byte; a missing one is null", async (store) => {
    const k = key();
    const data = bytes(200_000);
    await put(store, k, data);
    assert.deepEqual(await readAll(store, k), data);
    assert.equal(await store.open(key()), null);
  });

  test("nothing is visible before commit; abort leaves the key as it was", async (store) => {
    const k = key();
    const w = await store.create(k);
    await w.write(bytes(1000));
    assert.equal(await store.open(k), null, "not before commit");
    await w.abort();
    assert.equal(await store.open(k), null);
    await put(store, k, bytes(10, 5));
    const second = await store.create(k);
    await second.write(bytes(99, 9));
    await second.abort();
    assert.deepEqual(await readAll(store, k), bytes(10, 5), "the old blob stays");
  });

  test("a commit replaces the previous blob whole", async (store) => {
    const k = key();
    await put(store, k, bytes(5000, 1));
    await put(store, k, bytes(300, 2));
    assert.deepEqual(await readAll(store, k), bytes(300, 2));
  });

  test("readAt reads exactly the range asked for, and less only past the end", async (store) => {
    const k = key();
    const data = bytes(70_000, 3);
    await put(store, k, data);
    const r = (await store.open(k))!;
    assert.equal(r.size, data.length);
    for (const [offset, length] of [[0, 1], [65_536, 100], [12_345, 30_000], [69_990, 10]]) {
      assert.deepEqual(await r.readAt(offset, length), data.subarray(offset, offset + length));
    }
    assert.deepEqual(await r.readAt(69_995, 100), data.subarray(69_995), "short past the end");
    assert.equal((await r.readAt(70_000, 10)).length, 0);
    r.close();
  });

  test("a blob larger than one upload part streams in parts and reads back", async (store) => {
    const k = key();
    const data = bytes(PART_BYTES * 2 + 12_345, 7);
    await put(store, k, data, 1024 * 1024);
    const r = (await store.open(k))!;
    assert.equal(r.size, data.length);
    const at = PART_BYTES - 10;
    assert.deepEqual(await r.readAt(at, 20), data.subarray(at, at + 20), "across a part boundary");
    r.close();
    assert.ok(equalBytes((await readAll(store, k))!, data), "every part whole and in order");
    await store.delete(k);
  });

  test("delete removes a blob; deleting a missing one is fine; empty blobs work", async (store) => {
    const k = key();
    await put(store, k, bytes(10));
    await store.delete(k);
    assert.equal(await store.open(k), null);
    await store.delete(k);
    const empty = key();
    await put(store, empty, new Uint8Array(0));
    assert.equal((await store.open(empty))!.size, 0);
  });

  test("keys outside [A-Za-z0-9_-]/[A-Za-z0-9_-] are refused", async (store) => {
    for (const bad of ["../x/main", "a/b/c", "a b/main", "x"]) {
      await assert.rejects(() => store.create(bad));
    }
  });
}
