import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { invalidField } from "../src/domain/errors.ts";
import type { Upload } from "../src/media/ingest.ts";
import { LINK_PATHS, type LinkVariant } from "../src/media/signed_url.ts";
import { serveDownload } from "./_download.ts";
import { requireAuth } from "./_middleware.ts";
import { multipartFile } from "./_multipart.ts";
import { bearer, jsonResponse, problems, router } from "./_openapi.ts";
import { MediaSchema } from "./_schemas.ts";

const UPLOAD_DESCRIPTION =
  "Multipart with a `file` field, or the raw bytes with their `Content-Type` and `?filename=`. " +
  "Streamed to encrypted storage; the type is decided from the bytes (415 when unknown or not " +
  "what was declared), and 413 comes as soon as the limit for the kind is crossed (MiB: image 20, " +
  "audio 25, video 200, document 100 by default). Answers 201 with status `processing`; a " +
  "`media.updated` socket event tells the uploader when it is `ready` or `failed`. `kind` may " +
  "change once processing knows better (an animated GIF becomes a video, a video file with only " +
  "sound becomes audio).";

const LinkQuery = z.object({ exp: z.string().max(20), sig: z.string().max(128) });

/** Upload, fetch and download media. */
export function mediaRoutes(services: Services) {
  const r = router();
  const svc = services.media;
  const auth = requireAuth(services.auth);

  r.openAPIRegistry.registerPath({
    method: "post",
    path: "/media",
    operationId: "uploadMedia",
    tags: ["Media"],
    summary: "Upload a file",
    description: UPLOAD_DESCRIPTION,
    security: bearer,
    request: {
      query: z.object({ filename: z.string().max(1024).optional() }),
      body: {
        required: true,
        content: {
          "multipart/form-data": {
            schema: z.object({ file: z.string().openapi({ format: "binary" }) }),
          },
          "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
    },
    responses: {
      201: jsonResponse(MediaSchema, "Stored; processing"),
      ...problems(400, 401, 413, 415),
    },
  });
  r.post("/media", auth, async (c) => {
    const type = c.req.header("content-type") ?? null;
    const upload: Upload & { discard?: () => void } = /^multipart\/form-data\b/i.test(type ?? "")
      ? await multipartFile(c.req.raw, "file")
      : rawUpload(c.req.raw, type, c.req.query("filename") ?? null);
    try {
      return c.json(await svc.upload(c.get("actor"), upload), 201);
    } catch (err) {
      upload.discard?.();
      throw err;
    }
  });

  r.openapi(
    createRoute({
      method: "get",
      path: "/media/{id}",
      operationId: "getMedia",
      tags: ["Media"],
      summary: "A media item with fresh signed links",
      description: "For its uploader, members of a conversation where a message carries it, and " +
        "anyone for avatars; 404 for everyone else.",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonResponse(MediaSchema, "The item"), ...problems(401, 404) },
    }),
    async (c) => c.json(await svc.get(c.get("actor"), c.req.valid("param").id), 200),
  );

  for (const variant of Object.keys(LINK_PATHS) as LinkVariant[]) {
    r.openapi(
      createRoute({
        method: "get",
        path: `/media/{id}/${LINK_PATHS[variant]}`,
        operationId: variant === "main" ? "downloadMedia" : "downloadMediaThumbnail",
        tags: ["Media"],
        summary: variant === "main" ? "Download (signed link)" : "Thumbnail (signed link)",
        security: [],
        description: "No Authorization: the `exp` and `sig` of a link from a media object. " +
          "Supports one `Range` (206, 416 when unsatisfiable). 403 for a bad or expired link.",
        request: { params: z.object({ id: z.string().max(64) }), query: LinkQuery },
        responses: {
          200: { description: "The file", content: { "*/*": { schema: z.any() } } },
          206: { description: "The requested range", content: { "*/*": { schema: z.any() } } },
          416: { description: "Range not satisfiable (`range_not_satisfiable`)" },
          ...problems(403, 404),
        },
      }),
      async (c) => {
        const download = await svc.download(
          c.req.valid("param").id,
          variant,
          c.req.valid("query"),
        );
        return serveDownload(c, download);
      },
    );
  }
  return r;
}

function rawUpload(req: Request, type: string | null, filename: string | null): Upload {
  if (!req.body) throw invalidField("file", "the request has no body");
  return { body: req.body, type, filename };
}
