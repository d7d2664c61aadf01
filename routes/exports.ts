import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { serveDownload } from "./_download.ts";
import { requestMeta, requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, problems, router } from "./_openapi.ts";
import { Iso } from "./_schemas.ts";

export const ExportSchema = z.object({
  id: z.string(),
  conversationId: z.string().optional().openapi({
    description: "The conversation archived (a conversation export)",
  }),
  status: z.enum(["processing", "ready", "failed"]),
  createdAt: Iso,
  completedAt: Iso.optional(),
  expiresAt: Iso.openapi({ description: "When the archive is removed (EXPORT_TTL_HOURS)" }),
  size: z.number().int().optional().openapi({ description: "Bytes of the zip" }),
  url: z.string().optional().openapi({
    description: "Signed, expiring download link (no Authorization needed; supports Range); " +
      "present once ready. GET the export again for a fresh one.",
  }),
  urlExpiresAt: Iso.optional(),
  failureReason: z.string().optional(),
}).openapi("DataExport");

/** Data exports (GDPR art. 15/20, CCPA): request, status, signed download. */
export function exportRoutes(services: Services) {
  const r = router();
  const auth = requireAuth(services.auth);

  r.openapi(
    createRoute({
      method: "post",
      path: "/users/me/export",
      operationId: "requestExport",
      tags: ["Privacy"],
      summary: "Export your data",
      description: "Starts building one zip of your profile, sessions, conversations and " +
        "memberships, every message you sent (decrypted), your reactions and your files, with a " +
        "README explaining the layout. Answers 202 with the job (the running one if there is " +
        'one). When it is ready your sockets get `{type:"event", event:"data_export.ready", ' +
        "data:<this object>}` (`data_export.failed` if it failed). Audited.",
      security: bearer,
      middleware: [auth] as const,
      responses: { 202: jsonResponse(ExportSchema, "Export started"), ...problems(401) },
    }),
    async (c) => c.json(await services.exports.request(c.get("actor"), requestMeta(c)), 202),
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/users/me/export/{id}",
      operationId: "getExport",
      tags: ["Privacy"],
      summary: "One of your exports, with a fresh download link once ready",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonResponse(ExportSchema, "The export"), ...problems(401, 404) },
    }),
    async (c) => c.json(await services.exports.get(c.get("actor"), c.req.valid("param").id), 200),
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/exports/{id}/archive",
      operationId: "downloadExport",
      tags: ["Privacy"],
      summary: "Download an export (signed link)",
      security: [],
      description: "No Authorization: the `exp` and `sig` of the export's `url`. Streams the " +
        "zip (`application/zip`, attachment); supports one `Range`. 403 for a bad or expired " +
        "link, 404 once the export expired. Audited as `data_export.downloaded`.",
      request: {
        params: z.object({ id: z.string().max(64) }),
        query: z.object({ exp: z.string().max(20), sig: z.string().max(128) }),
      },
      responses: {
        200: { description: "The archive", content: { "application/zip": { schema: z.any() } } },
        206: {
          description: "The requested range",
          content: { "application/zip": { schema: z.any() } },
        },
        416: { description: "Range not satisfiable (`range_not_satisfiable`)" },
        ...problems(403, 404),
      },
    }),
    async (c) => {
      const download = await services.exports.download(
        c.req.valid("param").id,
        c.req.valid("query"),
        requestMeta(c),
      );
      return serveDownload(c, download);
    },
  );

  return r;
}
