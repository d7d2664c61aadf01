import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requestMeta, requireAdmin, requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { ConversationSchema } from "./_message_schemas.ts";
import { GroupPreview, Iso } from "./_schemas.ts";

const Id = z.string().max(64);
const Reason = z.string().max(4000);
const Time = z.string().max(64);

const InvitationSchema = z.object({
  id: z.string(),
  conversation: GroupPreview.omit({ description: true }),
  inviterId: z.string(),
  createdAt: Iso,
}).openapi("Invitation");

const ReportReason = z.enum(["spam", "abuse", "illegal", "other"]);

const ReportSchema = z.object({
  id: z.string(),
  reporterId: z.string().nullable().openapi({ description: "Null once the reporter was erased" }),
  reason: ReportReason,
  note: z.string().optional(),
  conversationId: z.string().optional(),
  messageId: z.string().optional(),
  userId: z.string().optional(),
  status: z.enum(["open", "resolved"]),
  resolution: z.string().optional(),
  resolvedBy: z.string().optional(),
  resolvedAt: Iso.optional(),
  createdAt: Iso,
  evidence: z.object({
    messageId: z.string(),
    conversationId: z.string(),
    senderId: z.string().nullable(),
    kind: z.string(),
    text: z.string().optional(),
    poll: z.unknown().optional(),
    mediaIds: z.array(z.string()),
    createdAt: Iso,
    editedAt: Iso.optional(),
  }).optional().openapi({
    description: "The reported message as it was when reported (kept if it is later deleted)",
  }),
}).openapi("Report");

/**
 * Safety and moderation: blocks, invitations, reports and site administration (suspension,
 * removing any message, site blocked words). Bans, invite links and public groups: `group_access.ts`.
 */
export function safetyRoutes(services: Services) {
  const r = router();
  const auth = [requireAuth(services.auth)];
  const base = { security: bearer, middleware: auth };
  const admin = {
    tags: ["Admin"],
    security: bearer,
    middleware: [requireAuth(services.auth), requireAdmin(services.admin)],
  };

  // Blocks.
  for (const method of ["put", "delete"] as const) {
    r.openapi(
      createRoute({
        ...base,
        tags: ["Users"],
        method,
        path: "/users/me/blocks/{userId}",
        operationId: method === "put" ? "blockUser" : "unblockUser",
        summary: method === "put" ? "Block a user" : "Unblock a user",
        description: "Idempotent. A user you block cannot open or write to a direct " +
          "conversation with you nor add you to groups (403 `blocked`), sees your profile " +
          "without presence, last seen, avatar or status, and you get no typing or presence " +
          "from them; in shared groups their messages reach you with `senderBlocked: true`.",
        request: { params: z.object({ userId: Id }) },
        responses: { 204: { description: "Done" }, ...problems(400, 401, 404) },
      }),
      async (c) => {
        const { userId } = c.req.valid("param");
        if (method === "put") await services.blocks.block(c.get("actor"), userId);
        else await services.blocks.unblock(c.get("actor"), userId);
        return c.body(null, 204);
      },
    );
  }
  r.openapi(
    createRoute({
      ...base,
      tags: ["Users"],
      method: "get",
      path: "/users/me/blocks",
      operationId: "listBlocks",
      summary: "The users you block, newest first",
      responses: {
        200: jsonResponse(
          z.object({ blocks: z.array(z.object({ userId: z.string(), createdAt: Iso })) }),
          "Blocks",
        ),
        ...problems(401),
      },
    }),
    async (c) => c.json({ blocks: await services.blocks.list(c.get("actor")) }, 200),
  );

  // Invitations.
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "get",
      path: "/invitations",
      operationId: "listInvitations",
      summary: "Your pending group invitations, newest first",
      responses: {
        200: jsonResponse(z.object({ invitations: z.array(InvitationSchema) }), "Invitations"),
        ...problems(401),
      },
    }),
    async (c) => c.json({ invitations: await services.invitations.list(c.get("actor")) }, 200),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "post",
      path: "/invitations/{id}/accept",
      operationId: "acceptInvitation",
      summary: "Accept an invitation: you join the group",
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ conversation: ConversationSchema }), "Joined"),
        ...problems(401, 403, 404, 409),
      },
    }),
    async (c) =>
      c.json({
        conversation: await services.invitations.accept(c.get("actor"), c.req.valid("param").id),
      }, 200),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "post",
      path: "/invitations/{id}/decline",
      operationId: "declineInvitation",
      summary: "Decline an invitation",
      request: { params: z.object({ id: Id }) },
      responses: { 204: { description: "Declined" }, ...problems(401, 404) },
    }),
    async (c) => {
      await services.invitations.decline(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  // Reports.
  r.openapi(
    createRoute({
      ...base,
      tags: ["Moderation"],
      method: "post",
      path: "/reports",
      operationId: "createReport",
      summary: "Report a message or a user",
      description: "A message (`conversationId` + `messageId`, one you can see: 404 otherwise) " +
        "and/or a user. A copy of the message is kept for the site admins even if it is later " +
        "edited or deleted.",
      request: {
        body: jsonBody(z.strictObject({
          reason: ReportReason,
          note: Reason.optional(),
          conversationId: Id.optional(),
          messageId: Id.optional(),
          userId: Id.optional(),
        })),
      },
      responses: {
        201: jsonResponse(
          z.object({
            id: z.string(),
            reason: ReportReason,
            status: z.enum(["open", "resolved"]),
            createdAt: Iso,
          }),
          "Filed",
        ),
        ...problems(400, 401, 404, 413, 415),
      },
    }),
    async (c) => c.json(await services.reports.file(c.get("actor"), c.req.valid("json")), 201),
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "get",
      path: "/admin/reports",
      operationId: "listReports",
      summary: "Reports, newest first, with their evidence",
      request: {
        query: PageQuery.extend({ status: z.enum(["open", "resolved"]).default("open") }),
      },
      responses: {
        200: jsonResponse(
          z.object({ reports: z.array(ReportSchema), nextCursor: z.string().optional() }),
          "Reports",
        ),
        ...problems(400, 401, 403),
      },
    }),
    async (c) => c.json(await services.reports.list(c.get("actor"), c.req.valid("query")), 200),
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "patch",
      path: "/admin/reports/{id}",
      operationId: "updateReport",
      summary: "Resolve (or reopen) a report",
      request: {
        params: z.object({ id: Id }),
        body: jsonBody(z.strictObject({
          status: z.enum(["open", "resolved"]),
          resolution: Reason.nullable().optional(),
        })),
      },
      responses: {
        200: jsonResponse(ReportSchema, "The report"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(
        await services.reports.resolve(
          c.get("actor"),
          c.req.valid("param").id,
          c.req.valid("json"),
        ),
        200,
      ),
  );

  // Site administration.
  r.openapi(
    createRoute({
      ...admin,
      method: "post",
      path: "/admin/users/{id}/suspend",
      operationId: "suspendUser",
      summary: "Suspend an account",
      description: "Revokes every session (sockets close on every instance) and makes login " +
        "answer 403 `suspended` until `until` (or until lifted). Audited.",
      request: {
        params: z.object({ id: Id }),
        body: jsonBody(z.strictObject({ reason: Reason, until: Time.nullable().optional() })),
      },
      responses: {
        200: jsonResponse(
          z.object({
            userId: z.string(),
            suspendedAt: Iso,
            until: Iso.nullable(),
            reason: z.string().nullable(),
          }),
          "Suspended",
        ),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(
        await services.siteModeration.suspend(
          c.get("actor"),
          c.req.valid("param").id,
          c.req.valid("json"),
          requestMeta(c),
        ),
        200,
      ),
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "post",
      path: "/admin/users/{id}/unsuspend",
      operationId: "unsuspendUser",
      summary: "Lift a suspension",
      request: { params: z.object({ id: Id }) },
      responses: { 204: { description: "Lifted" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      await services.siteModeration.unsuspend(
        c.get("actor"),
        c.req.valid("param").id,
        requestMeta(c),
      );
      return c.body(null, 204);
    },
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "delete",
      path: "/admin/conversations/{id}/messages/{messageId}",
      operationId: "removeMessageAsAdmin",
      summary: "Remove any message for everyone",
      request: { params: z.object({ id: Id, messageId: Id }) },
      responses: { 204: { description: "Removed" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await services.siteModeration.removeMessage(
        c.get("actor"),
        p.id,
        p.messageId,
        requestMeta(c),
      );
      return c.body(null, 204);
    },
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "get",
      path: "/admin/blocked-words",
      operationId: "getBlockedWords",
      summary: "The site's blocked words",
      responses: {
        200: jsonResponse(z.object({ words: z.array(z.string()) }), "Words"),
        ...problems(401, 403),
      },
    }),
    async (c) => c.json({ words: await services.siteModeration.blockedWords(c.get("actor")) }, 200),
  );
  r.openapi(
    createRoute({
      ...admin,
      method: "put",
      path: "/admin/blocked-words",
      operationId: "setBlockedWords",
      summary: "Replace the site's blocked words",
      description: "A message anywhere containing one (case- and accent-insensitive, whole " +
        "words; a phrase as consecutive words) is refused with 422 `content_blocked`.",
      request: {
        body: jsonBody(z.strictObject({ words: z.array(z.string().max(256)).max(2000) })),
      },
      responses: {
        200: jsonResponse(z.object({ words: z.array(z.string()) }), "Words"),
        ...problems(400, 401, 403, 413, 415),
      },
    }),
    async (c) =>
      c.json({
        words: await services.siteModeration.setBlockedWords(
          c.get("actor"),
          c.req.valid("json").words,
          requestMeta(c),
        ),
      }, 200),
  );

  return r;
}
