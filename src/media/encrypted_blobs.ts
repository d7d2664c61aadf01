import { DecryptionError } from "../crypto/envelope.ts";
import type { MediaVariant } from "../domain/media.ts";
import type { BlobReader, BlobStore } from "./blob_store.ts";

/** Plaintext bytes per chunk. Each chunk is sealed on its own so a range decrypts only its chunks. */
export const CHUNK_SIZE = 64 * 1024;
const MAGIC = [0x50, 0x4d, 0x42, 0x31]; // "PMB1"
const HEADER = 8;
const NONCE = 12;
const TAG = 16;
const OVERHEAD = NONCE + TAG;
const encoder = new TextEncoder();
const VARIANTS: MediaVariant[] = ["original", "main", "thumb"];

/** The AAD of one chunk: binds it to its media, variant, position and whether it is the last. */
function chunkAad(
  mediaId: string,
  variant: MediaVariant,
  index: number,
  last: boolean,
): Uint8Array {
  return encoder.encode(`parley:media:v1:${mediaId}:${variant}:${index}:${last ? 1 : 0}`);
}

/** Writes plaintext into an encrypted blob; {@link finish} seals the last chunk and commits. */
export interface EncryptedWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Commits the blob and returns the plaintext size. */
  finish(): Promise<number>;
  abort(): Promise<void>;
}

/** Decrypting random access to one encrypted blob. */
export interface EncryptedReader {
  /** Plaintext size. */
  readonly size: number;
  /**
   * The plaintext bytes `start..end` (inclusive), decrypting only the chunks they fall in. The
   * reader closes itself when the stream ends, fails or is cancelled.
   */
  stream(start: number, end: number): ReadableStream<Uint8Array>;
  /** Releases the file; safe to call more than once. */
  close(): void;
}

/**
 * Media bytes at rest: AES-256-GCM in fixed {@link CHUNK_SIZE} chunks, each with its own random
 * nonce and an AAD binding media id, variant, chunk index and a last-chunk flag, so chunks cannot be
 * swapped, moved between files, reordered or truncated away unnoticed. Layout: `PMB1`, the chunk size
 * (u32 BE), then per chunk nonce ‖ ciphertext ‖ tag.
 */
export class EncryptedBlobs {
  constructor(private readonly blobs: BlobStore) {}

  async writer(key: CryptoKey, mediaId: string, variant: MediaVariant): Promise<EncryptedWriter> {
    const out = await this.blobs.create(`${mediaId}/${variant}`);
    const header = new Uint8Array(HEADER);
    header.set(MAGIC);
    new DataView(header.buffer).setUint32(4, CHUNK_SIZE);
    await out.write(header);
    const buffer = new Uint8Array(CHUNK_SIZE);
    let filled = 0;
    let index = 0;
    let total = 0;
    const seal = async (plain: Uint8Array, last: boolean) => {
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE));
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          {
            name: "AES-GCM",
            iv: nonce,
            additionalData: chunkAad(mediaId, variant, index++, last) as BufferSource,
          },
          key,
          plain as BufferSource,
        ),
      );
      await out.write(nonce);
      await out.write(sealed);
    };
    return {
      async write(chunk) {
        total += chunk.length;
        let at = 0;
        while (at < chunk.length) {
          // A full buffer is sealed only once more data shows it is not the last chunk.
          if (filled === CHUNK_SIZE) {
            await seal(buffer, false);
            filled = 0;
          }
          const n = Math.min(CHUNK_SIZE - filled, chunk.length - at);
          buffer.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
        }
      },
      async finish() {
        await seal(buffer.subarray(0, filled), true);
        await out.commit();
        return total;
      },
      abort: () => out.abort(),
    };
  }

  /** Encrypts everything `source` yields into the variant; returns the plaintext size. */
  async write(
    key: CryptoKey,
    mediaId: string,
    variant: MediaVariant,
    source: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<number> {
    const w = await this.writer(key, mediaId, variant);
    try {
      if (source instanceof Uint8Array) await w.write(source);
      else for await (const chunk of source) await w.write(chunk);
      return await w.finish();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /** A reader, or null when the variant is not stored. Throws {@link DecryptionError} if mangled. */
  async open(
    key: CryptoKey,
    mediaId: string,
    variant: MediaVariant,
  ): Promise<EncryptedReader | null> {
    const blob = await this.blobs.open(`${mediaId}/${variant}`);
    if (!blob) return null;
    try {
      return await reader(blob, key, mediaId, variant);
    } catch (err) {
      blob.close();
      throw err;
    }
  }

  /** Decrypts a whole variant into memory (small files: images, thumbnails). */
  async read(key: CryptoKey, mediaId: string, variant: MediaVariant): Promise<Uint8Array | null> {
    const r = await this.open(key, mediaId, variant);
    if (!r) return null;
    try {
      return new Uint8Array(await new Response(r.stream(0, r.size - 1)).arrayBuffer());
    } finally {
      r.close();
    }
  }

  delete(mediaId: string, variant: MediaVariant): Promise<void> {
    return this.blobs.delete(`${mediaId}/${variant}`);
  }

  /** Deletes every variant of an item (those missing are skipped). */
  async deleteAll(mediaId: string): Promise<void> {
    for (const variant of VARIANTS) await this.delete(mediaId, variant);
  }
}

async function reader(
  blob: BlobReader,
  key: CryptoKey,
  mediaId: string,
  variant: MediaVariant,
): Promise<EncryptedReader> {
  const header = await blob.readAt(0, HEADER);
  if (header.length < HEADER || !MAGIC.every((b, i) => header[i] === b)) {
    throw new DecryptionError("not an encrypted media blob");
  }
  const chunkSize = new DataView(header.buffer, header.byteOffset).getUint32(4);
  const stride = chunkSize + OVERHEAD;
  const body = blob.size - HEADER;
  const chunks = Math.ceil(body / stride);
  if (chunks < 1 || body - (chunks - 1) * stride < OVERHEAD) {
    throw new DecryptionError("encrypted media blob is truncated");
  }
  const size = body - chunks * OVERHEAD;
  const open = async (index: number): Promise<Uint8Array> => {
    const frame = await blob.readAt(HEADER + index * stride, stride);
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: frame.subarray(0, NONCE) as BufferSource,
            additionalData: chunkAad(mediaId, variant, index, index === chunks - 1) as BufferSource,
          },
          key,
          frame.subarray(NONCE) as BufferSource,
        ),
      );
    } catch {
      throw new DecryptionError(`media chunk ${index} does not open with this key and context`);
    }
  };
  let closed = false;
  const close = () => {
    if (!closed) blob.close();
    closed = true;
  };
  return {
    size,
    stream(start, end) {
      let index = Math.floor(start / chunkSize);
      const lastIndex = Math.floor(end / chunkSize);
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (start > end || index > lastIndex) {
            close();
            return controller.close();
          }
          let plain: Uint8Array;
          try {
            plain = await open(index);
          } catch (err) {
            close();
            throw err;
          }
          const from = index === Math.floor(start / chunkSize) ? start % chunkSize : 0;
          const to = index === lastIndex ? (end % chunkSize) + 1 : plain.length;
          controller.enqueue(plain.subarray(from, to));
          index++;
        },
        cancel: close,
      }, { highWaterMark: 2 });
    },
    close,
  };
}
