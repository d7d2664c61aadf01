import busboyModule from "busboy";
import { Readable, type Writable } from "node:stream";
import { invalidField } from "../src/domain/errors.ts";
import type { Upload } from "../src/media/ingest.ts";

// The part of busboy's interface used here (its @types package drags in Node's globals, which clash
// with Deno's worker types).
interface FilePart {
  filename?: string;
  mimeType: string;
}
type Parser = Writable & {
  on(event: "file", listener: (name: string, stream: Readable, info: FilePart) => void): Parser;
  on(event: "field", listener: (name: string) => void): Parser;
};
const busboy = busboyModule as unknown as (config: {
  headers: Record<string, string>;
  limits: Record<string, number>;
}) => Parser;

/**
 * The named file field of a `multipart/form-data` request as a stream, read as it arrives (busboy),
 * never buffered whole. Any other part is an unknown field: 400 naming it (after the file has
 * started, the file's stream fails with that error instead). Busboy reports a part without its own
 * Content-Type as `text/plain`, so that declaration is treated as none.
 */
export function multipartFile(
  req: Request,
  field: string,
): Promise<Upload & { discard(): void }> {
  if (!req.body) return Promise.reject(invalidField(field, "the request has no body"));
  let parser: Parser;
  try {
    parser = busboy({
      headers: Object.fromEntries(req.headers),
      limits: { files: 1, fields: 20, parts: 25, fieldSize: 64 * 1024, headerPairs: 50 },
    });
  } catch {
    return Promise.reject(invalidField(field, "malformed multipart Content-Type"));
  }
  // A body that breaks off (client gone) must fail the file stream, not leave it waiting.
  const source = Readable.fromWeb(req.body as never);
  return new Promise<Upload & { discard(): void }>((resolve, reject) => {
    let found = false;
    let file: Readable | undefined;
    const unknown = (name: string) => {
      const err = invalidField(name, "unknown field");
      if (file) file.destroy(err);
      else reject(err);
    };
    parser.on("field", unknown);
    parser.on("file", (name, stream, info) => {
      if (name !== field || found) {
        stream.resume();
        return unknown(name);
      }
      found = true;
      file = stream;
      resolve({
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        type: info.mimeType === "text/plain" ? null : info.mimeType,
        filename: info.filename ?? null,
        // A refused upload stops reading the request: the rest of it is dropped, not left open.
        discard: () => {
          source.destroy();
          parser.destroy();
        },
      });
    });
    parser.on("error", () => reject(invalidField(field, "malformed multipart body")));
    parser.on("close", () => {
      if (!found) reject(invalidField(field, `a multipart upload needs a "${field}" file field`));
    });
    source.on("error", (err) => parser.destroy(err));
    source.pipe(parser);
  });
}
