import { AppError, invalidField, payloadTooLarge, unsupportedMediaType } from "../domain/errors.ts";
import type { MediaKind } from "../domain/media.ts";
import { concatBytes } from "./bytes.ts";
import { contentCheck } from "./content_check.ts";
import type { EncryptedWriter } from "./encrypted_blobs.ts";
import { reconcile, sniff, SNIFF_BYTES, type Sniffed } from "./sniff.ts";

/** An upload as it arrives: its bytes and what the client says about them. */
export interface Upload {
  body: ReadableStream<Uint8Array>;
  /** The declared Content-Type (of the request or the multipart part). */
  type: string | null;
  filename: string | null;
}

/** What was stored. */
export interface Ingested {
  kind: MediaKind;
  mime: string;
  size: number;
  pageCount?: number;
}

const MiB = 1024 * 1024;

/**
 * Streams an upload into encrypted storage without holding it in memory: decides the type from the
 * first bytes (415 when unknown or contradicting the declared type), opens the writer for that kind,
 * then counts bytes as they pass and stops with 413 the moment the kind's limit is crossed. Zip and
 * text uploads are confirmed from their whole content (415 otherwise). On any failure the partial
 * blob is removed and the rest of the body is not read.
 */
export async function ingest(
  upload: Upload,
  options: {
    limits: Record<MediaKind, number>;
    open: (kind: MediaKind) => Promise<EncryptedWriter>;
  },
): Promise<Ingested> {
  const source = upload.body.getReader();
  // A body that breaks off is the client's doing (a 400 it will likely never see), not a fault.
  const reader = {
    read: () =>
      source.read().catch((err) => {
        throw err instanceof AppError
          ? err
          : invalidField("file", "the upload ended before it was complete");
      }),
  };
  let writer: EncryptedWriter | null = null;
  try {
    const { head, done } = await readHead(reader);
    const sniffed = sniff(head, done);
    if (!sniffed) {
      if (head.length === 0) throw invalidField("file", "the file is empty");
      throw unsupportedMediaType("This file type is not supported");
    }
    const type = reconcile(sniffed, upload.type, upload.filename ?? "");
    if (!type) {
      throw unsupportedMediaType(
        `The file is ${describe(sniffed)}, which does not match the declared ${upload.type}`,
      );
    }
    const limit = options.limits[type.kind];
    const check = contentCheck(type, upload.type);
    writer = await options.open(type.kind);
    let size = 0;
    const take = async (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > limit) {
        const article = /^[aeiou]/.test(type.kind) ? "An" : "A";
        throw payloadTooLarge(
          `${article} ${type.kind} may be at most ${Math.floor(limit / MiB)} MiB`,
        );
      }
      check.push(chunk);
      await writer!.write(chunk);
    };
    await take(head);
    while (!done) {
      const next = await reader.read();
      if (next.done) break;
      await take(next.value);
    }
    const found = check.finish();
    await writer.finish();
    return { kind: type.kind, mime: found.mime, size, pageCount: found.pageCount };
  } catch (err) {
    await writer?.abort();
    await source.cancel().catch(() => {});
    throw err;
  }
}

function describe(s: Sniffed): string {
  return s.kind === "document" ? s.mime : `${s.kind} (${s.mime})`;
}

async function readHead(
  reader: { read(): Promise<ReadableStreamReadResult<Uint8Array>> },
): Promise<{ head: Uint8Array; done: boolean }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  while (length < SNIFF_BYTES) {
    const next = await reader.read();
    if (next.done) return { head: concatBytes(parts), done: true };
    parts.push(next.value);
    length += next.value.length;
  }
  return { head: concatBytes(parts), done: false };
}
