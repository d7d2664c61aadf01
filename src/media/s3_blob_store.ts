import { AwsClient } from "aws4fetch";
import { AppError } from "../domain/errors.ts";
import { type BlobReader, type BlobStore, type BlobWriter, checkBlobKey } from "./blob_store.ts";

/** How to reach the bucket (from `BLOB_STORE=s3` and the `S3_*` variables). */
export interface S3Options {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, s3rver…). */
  forcePathStyle: boolean;
  /** Deadline of each request to the bucket. */
  timeoutMs: number;
  /** Prepended to every key (`media/`, `exports/`): one bucket holds both. */
  prefix: string;
}

/** The `S3_*` settings as the configuration holds them (`config.blobs.s3`). */
export interface S3Settings {
  endpoint?: string;
  region: string;
  bucket?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  timeoutMs: number;
}

/** Options for a store under `prefix` of the configured bucket (the config checked they are set). */
export function s3Options(s3: S3Settings, prefix: string): S3Options {
  return {
    endpoint: s3.endpoint!,
    region: s3.region,
    bucket: s3.bucket!,
    accessKeyId: s3.accessKeyId!,
    secretAccessKey: s3.secretAccessKey!,
    forcePathStyle: s3.forcePathStyle,
    timeoutMs: s3.timeoutMs,
    prefix,
  };
}

/** Uploads go in parts of this size (S3's minimum part is 5 MiB, but for the last). */
export const PART_BYTES = 5 * 1024 * 1024;

/** Seconds a client should wait before retrying when the bucket is slow or down. */
const RETRY_AFTER_SECONDS = 5;

/** The bucket did not answer in time or failed: a 503 with `Retry-After`; nothing was changed. */
export function storageUnavailable(what: string): AppError {
  return new AppError(
    503,
    "unavailable",
    "Service unavailable",
    `Object storage is unavailable (${what}); try again shortly`,
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}

/**
 * {@link BlobStore} on an S3-compatible bucket, signed with SigV4 by `aws4fetch`. Blobs arrive already
 * encrypted in Parley's 64 KiB chunks, so the bucket never holds plaintext. A blob is written with
 * one PUT when it is small, else as a multipart upload of {@link PART_BYTES} parts streamed as they
 * fill (a video never sits whole in memory); either way it becomes visible only at `commit`. Reads are
 * ranged GETs of exactly the bytes asked for. Every request has a deadline; a bucket that is down or
 * too slow is a 503 `unavailable` with `Retry-After`.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3";
  readonly #aws: AwsClient;
  readonly #base: string;

  constructor(private readonly options: S3Options) {
    this.#aws = new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      region: options.region,
      service: "s3",
      // Retries (with backoff) only server errors and throttling; deadlines are ours.
      retries: 2,
    });
    const url = new URL(options.endpoint);
    const path = url.pathname.replace(/\/+$/, "");
    this.#base = options.forcePathStyle
      ? `${url.protocol}//${url.host}${path}/${options.bucket}`
      : `${url.protocol}//${options.bucket}.${url.host}${path}`;
  }

  #url(key: string, query = ""): string {
    checkBlobKey(key);
    return `${this.#base}/${this.options.prefix}${key}${query}`;
  }

  /**
   * One signed request with the deadline; network failures and timeouts become 503s. Bodies are
   * sent `UNSIGNED-PAYLOAD`: what Parley stores is sealed chunk by chunk with AES-GCM (tampering in
   * transit or in the bucket fails on read) and TLS protects it on the wire, so hashing each 5 MiB
   * part for the signature would cost a pass and a copy of it for nothing.
   */
  async #fetch(url: string, init: RequestInit, what: string): Promise<Response> {
    let res: Response;
    const unsigned = init.body !== undefined;
    try {
      res = await this.#aws.fetch(url, {
        ...init,
        ...(unsigned
          ? {
            headers: {
              ...init.headers as Record<string, string>,
              "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            },
          }
          : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw Object.assign(storageUnavailable(what), { cause: err });
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw storageUnavailable(`${what}: ${res.status}`);
    }
    return res;
  }

  async #expect(res: Response, ok: number[], what: string): Promise<Response> {
    if (ok.includes(res.status)) return res;
    const text = (await res.text().catch(() => "")).slice(0, 300);
    throw new Error(`s3 ${what}: ${res.status} ${text}`);
  }

  /** Whether the bucket answers (readiness). */
  async ping(): Promise<void> {
    const res = await this.#fetch(`${this.#base}/`, { method: "HEAD" }, "ping");
    await res.body?.cancel();
    if (res.status >= 400 && res.status !== 403) throw new Error(`s3 bucket: ${res.status}`);
  }

  // deno-lint-ignore require-await
  async create(key: string): Promise<BlobWriter> {
    const url = this.#url(key);
    // One part buffer per upload, filled in place and reused for every part: a part is sent (and
    // the request body copied out) before the next byte is written into it.
    let part: Uint8Array<ArrayBuffer> | null = null;
    let filled = 0;
    let uploadId: string | null = null;
    const parts: string[] = [];
    const uploadPart = async (body: Uint8Array<ArrayBuffer>) => {
      if (uploadId === null) {
        const started = await this.#expect(
          await this.#fetch(`${url}?uploads`, { method: "POST" }, "start upload"),
          [200],
          "start upload",
        );
        uploadId = xmlText(await started.text(), "UploadId");
      }
      const n = parts.length + 1;
      const res = await this.#expect(
        await this.#fetch(
          `${url}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`,
          { method: "PUT", body },
          "upload part",
        ),
        [200],
        "upload part",
      );
      await res.body?.cancel();
      parts.push(res.headers.get("etag") ?? "");
    };
    const flush = async () => {
      const body = part!.subarray(0, filled);
      filled = 0;
      await uploadPart(body);
    };
    return {
      async write(chunk) {
        let at = 0;
        while (at < chunk.length) {
          part ??= new Uint8Array(PART_BYTES);
          const n = Math.min(PART_BYTES - filled, chunk.length - at);
          part.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === PART_BYTES) await flush();
        }
      },
      commit: async () => {
        if (uploadId === null) {
          const body = part?.slice(0, filled) ?? new Uint8Array(0);
          const res = await this.#expect(
            await this.#fetch(url, { method: "PUT", body }, "put"),
            [200],
            "put",
          );
          await res.body?.cancel();
          return;
        }
        if (filled > 0) await flush();
        part = null;
        const xml = "<CompleteMultipartUpload>" +
          parts.map((etag, i) =>
            `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`
          ).join("") + "</CompleteMultipartUpload>";
        const res = await this.#expect(
          await this.#fetch(
            `${url}?uploadId=${encodeURIComponent(uploadId)}`,
            { method: "POST", body: xml },
            "complete upload",
          ),
          [200],
          "complete upload",
        );
        // S3 may answer 200 with an error document when completing fails late.
        const text = await res.text();
        if (/<Error>/.test(text)) throw new Error(`s3 complete upload: ${text.slice(0, 300)}`);
      },
      abort: async () => {
        part = null;
        filled = 0;
        if (uploadId === null) return;
        const res = await this.#fetch(
          `${url}?uploadId=${encodeURIComponent(uploadId)}`,
          { method: "DELETE" },
          "abort upload",
        ).catch(() => null);
        await res?.body?.cancel();
      },
    };
  }

  async open(key: string): Promise<BlobReader | null> {
    const url = this.#url(key);
    const head = await this.#fetch(url, { method: "HEAD" }, "head");
    await head.body?.cancel();
    if (head.status === 404) return null;
    await this.#expect(head, [200], "head");
    const size = Number(head.headers.get("content-length") ?? "0");
    return {
      size,
      readAt: async (offset, length) => {
        const end = Math.min(offset + length, size);
        if (end <= offset) return new Uint8Array(0);
        const res = await this.#expect(
          await this.#fetch(url, { headers: { range: `bytes=${offset}-${end - 1}` } }, "read"),
          [200, 206],
          "read",
        );
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (bytes.length === end - offset) return bytes;
        // A server that ignores (or misreads) the Range answers the whole object: take the part.
        if (bytes.length === size) return bytes.subarray(offset, end);
        throw new Error(`s3 read: ${bytes.length} bytes for a range of ${end - offset}`);
      },
      close() {},
    };
  }

  async delete(key: string): Promise<void> {
    const res = await this.#fetch(this.#url(key), { method: "DELETE" }, "delete");
    await res.body?.cancel();
    await this.#expect(res, [200, 204, 404], "delete");
  }
}

/** The text of the first `<tag>` of an S3 XML answer (entities decoded). */
function xmlText(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!m) throw new Error(`s3: no ${tag} in ${xml.slice(0, 200)}`);
  return m[1].replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
