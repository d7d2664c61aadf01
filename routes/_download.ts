import type { Context } from "hono";
import { AppError } from "../src/domain/errors.ts";
import { contentDisposition } from "../src/media/filename.ts";
import type { Download } from "../src/services/media.ts";
import type { AppEnv } from "./_env.ts";
import { sendProblem, toProblem } from "./_problem.ts";
import { parseRange } from "./_range.ts";

/**
 * Sends an opened download (media or a data export archive): one `Range` (206, or 416 with the size
 * in `Content-Range`), `HEAD`, `Content-Disposition`, no sniffing, a sandboxing CSP and
 * private caching until the link expires. The body is streamed, decrypting only what is sent.
 */
export function serveDownload(c: Context<AppEnv>, d: Download): Response {
  const size = d.reader.size;
  const headers = new Headers({
    "content-type": d.mime === "text/plain" ? "text/plain; charset=utf-8" : d.mime,
    "content-disposition": contentDisposition(d.disposition, d.filename),
    "accept-ranges": "bytes",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cross-origin-resource-policy": "cross-origin",
    "cache-control": `private, max-age=${Math.max(0, d.expiresAt - Math.floor(Date.now() / 1000))}`,
  });
  const range = parseRange(c.req.header("range"), size);
  if (range.kind === "unsatisfiable") {
    d.reader.close();
    const res = sendProblem(
      c,
      toProblem(
        new AppError(416, "range_not_satisfiable", "Range not satisfiable", "Bad Range"),
      ).problem,
    );
    res.headers.set("content-range", `bytes */${size}`);
    return res;
  }
  const [start, end] = range.kind === "partial" ? [range.start, range.end] : [0, size - 1];
  headers.set("content-length", String(end - start + 1));
  if (range.kind === "partial") headers.set("content-range", `bytes ${start}-${end}/${size}`);
  const status = range.kind === "partial" ? 206 : 200;
  if (c.req.method === "HEAD") {
    d.reader.close();
    return new Response(null, { status, headers });
  }
  return new Response(d.reader.stream(start, end), { status, headers });
}
