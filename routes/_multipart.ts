// @ts-types="@types/busboy"
import busboy from "busboy";
import { Readable } from "node:stream";
import { invalidField } from "../src/domain/errors.ts";
import type { Upload } from "../src/media/ingest.ts";

/**
 * The named file field of a `multipart/form-data` request as a stream, read as it arrives (busboy),
 * never buffered whole. Other fields are skipped. Busboy reports a part without its own
 * Content-Type as `text/plain`, so that declaration is treated as none.
 */
export function multipartFile(req: Request, field: string): Promise<Upload> {
  if (!req.body) return Promise.reject(invalidField(field, "the request has no body"));
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: Object.fromEntries(req.headers),
      limits: { files: 1, fields: 20, parts: 25, fieldSize: 64 * 1024, headerPairs: 50 },
    });
  } catch {
    return Promise.reject(invalidField(field, "malformed multipart Content-Type"));
  }
  return new Promise<Upload>((resolve, reject) => {
    let found = false;
    parser.on("file", (name, stream, info) => {
      if (name !== field || found) return void stream.resume();
      found = true;
      resolve({
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        type: info.mimeType === "text/plain" ? null : info.mimeType,
        filename: info.filename ?? null,
      });
    });
    parser.on("error", () => reject(invalidField(field, "malformed multipart body")));
    parser.on("close", () => {
      if (!found) reject(invalidField(field, `a multipart upload needs a "${field}" file field`));
    });
    Readable.fromWeb(req.body as never).on("error", () => {}).pipe(parser);
  });
}
