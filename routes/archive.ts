import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requestMeta, requireAdmin, requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, optionalJsonBody, problems, router } from "./_openapi.ts";
import { ExportSchema } from "./exports.ts";
import { Iso } from "./_schemas.ts";

const Id = z.string().max(64);

const Hold = z.object({
  conversationId: z.string(),
  placedBy: z.string().openapi({ description: "The site administrator who placed it" }),
  placedAt: Iso,
  reason: z.string().nullable(),
}).openapi("LegalHold");

/** Conversation exports (owner/admin) and legal holds (site administrators). */
export function archiveRoutes(services: Services) {
  const r = router();
  const auth = requireAuth(services.auth);
  const guard = [auth, requireAdmin(services.admin)];

  r.openapi(
    createRoute({
      method: "post",
      path: "/conversations/{id}/export",
      operationId: "requestConversationExport",
      tags: ["Archive"],
      summary: "Export a conversation",
      description:
        "The owner or an admin of a group, either member of a direct conversation, or a " +
        "site administrator starts building one zip of the conversation: `messages.json` (every " +
        "message in order with its decrypted text, sender, reactions, replies, threads and " +
        "attachments; under a legal hold, deleted messages with the content the hold kept), a " +
        "readable self-contained `transcript.html`, and the media under `media/<id>/<name>`. " +
        "Answers 202 with the job (the caller's running one for this conversation if there is " +
        'one); when it is ready the caller\'s sockets get `{type:"event", ' +
        'event:"conversation_export.ready", data:<this object>}` (`conversation_export.failed` ' +
        "if it failed). Audited as `conversation.export_requested`.",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: Id }) },
      responses: { 202: jsonResponse(ExportSchema, "Export started"), ...problems(401, 403, 404) },
    }),
    async (c) =>
      c.json(
        await services.exports.requestConversation(
          c.get("actor"),
          c.req.valid("param").id,
          requestMeta(c),
        ),
        202,
      ),
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/conversations/{id}/export/{exportId}",
      operationId: "getConversationExport",
      tags: ["Archive"],
      summary: "A conversation export's status, with a fresh signed `url` once ready",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: Id, exportId: Id }) },
      responses: { 200: jsonResponse(ExportSchema, "The export"), ...problems(401, 403, 404) },
    }),
    async (c) => {
      const { id, exportId } = c.req.valid("param");
      return c.json(
        await services.exports.getConversationExport(c.get("actor"), id, exportId),
        200,
      );
    },
  );

  r.openapi(
    createRoute({
      method: "put",
      path: "/admin/conversations/{id}/hold",
      operationId: "placeLegalHold",
      tags: ["Admin"],
      summary: "Place a conversation on legal hold",
      description: "Until the hold is lifted: retention skips the conversation, and messages " +
        "deleted for everyone, expired (disappearing) or deleted by an account erasure vanish " +
        "for users as usual but their content is kept (see docs/PRIVACY.md). 201 when placed, " +
        "200 with the hold already in place. Audited as `conversation.hold_placed`.",
      security: bearer,
      middleware: guard,
      request: {
        params: z.object({ id: Id }),
        body: optionalJsonBody(z.strictObject({ reason: z.string().trim().min(1).max(500) })),
      },
      responses: {
        200: jsonResponse(z.object({ hold: Hold }), "Already on hold"),
        201: jsonResponse(z.object({ hold: Hold }), "Placed"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { hold, created } = await services.holds.place(
        c.get("actor"),
        c.req.valid("param").id,
        body?.reason ?? null,
        requestMeta(c),
      );
      return created ? c.json({ hold }, 201) : c.json({ hold }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/conversations/{id}/hold",
      operationId: "getLegalHold",
      tags: ["Admin"],
      summary: "The legal hold on a conversation (404 when there is none)",
      security: bearer,
      middleware: guard,
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ hold: Hold }), "The hold"),
        ...problems(401, 403, 404),
      },
    }),
    async (c) =>
      c.json({ hold: await services.holds.get(c.get("actor"), c.req.valid("param").id) }, 200),
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/holds",
      operationId: "listLegalHolds",
      tags: ["Admin"],
      summary: "Every legal hold",
      security: bearer,
      middleware: guard,
      responses: {
        200: jsonResponse(z.object({ holds: z.array(Hold) }), "The holds"),
        ...problems(401, 403),
      },
    }),
    async (c) => c.json({ holds: await services.holds.list(c.get("actor")) }, 200),
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: "/admin/conversations/{id}/hold",
      operationId: "liftLegalHold",
      tags: ["Admin"],
      summary: "Lift a legal hold",
      description: "Erases the content the hold kept (and media nothing else uses), scrubs the " +
        "store; retention catches up at its next sweep. Audited as `conversation.hold_lifted`.",
      security: bearer,
      middleware: guard,
      request: { params: z.object({ id: Id }) },
      responses: { 204: { description: "Lifted" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      await services.holds.lift(c.get("actor"), c.req.valid("param").id, requestMeta(c));
      return c.body(null, 204);
    },
  );

  return r;
}
