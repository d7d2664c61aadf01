import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, optionalJsonBody, PageQuery, problems, router } from "./_openapi.ts";
import { ConversationSchema } from "./_message_schemas.ts";
import { GroupPreview, Iso } from "./_schemas.ts";

const Id = z.string().max(64);
const Reason = z.string().max(4000);
const Time = z.string().max(64);

const BanSchema = z.object({
  userId: z.string(),
  bannedBy: z.string(),
  until: Iso.nullable(),
  createdAt: Iso,
  reason: z.string().optional(),
}).openapi("Ban");

const InviteLinkSchema = z.object({
  code: z.string(),
  expiresAt: Iso.nullable(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
  createdBy: z.string(),
  createdAt: Iso,
}).openapi("InviteLink");

/**
 * Ways into and out of a group besides being added: bans, invite links and public groups (discovery
 * and joining). Mounted before the conversation routes: `/conversations/discover` is not an id.
 */
export function groupAccessRoutes(services: Services) {
  const r = router();
  const base = { security: bearer, middleware: [requireAuth(services.auth)] };

  // Bans.
  const BanParams = z.object({ id: Id, userId: Id });
  r.openapi(
    createRoute({
      ...base,
      tags: ["Moderation"],
      method: "put",
      path: "/conversations/{id}/bans/{userId}",
      operationId: "banUser",
      summary: "Ban a user from a group",
      description: "Moderators and up, on users ranked below them. Removes them if they are a " +
        "member; until `until` (or until lifted) no add, invite link, invitation or public " +
        "join brings them back (403 `banned`).",
      request: {
        params: BanParams,
        body: optionalJsonBody(
          z.strictObject({ reason: Reason.optional(), until: Time.nullable().optional() }),
        ),
      },
      responses: {
        200: jsonResponse(BanSchema, "Banned"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const input = c.req.valid("json") ?? {};
      return c.json(await services.groupModeration.ban(c.get("actor"), p.id, p.userId, input), 200);
    },
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Moderation"],
      method: "delete",
      path: "/conversations/{id}/bans/{userId}",
      operationId: "unbanUser",
      summary: "Lift a ban",
      request: { params: BanParams },
      responses: { 204: { description: "Lifted" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await services.groupModeration.unban(c.get("actor"), p.id, p.userId);
      return c.body(null, 204);
    },
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Moderation"],
      method: "get",
      path: "/conversations/{id}/bans",
      operationId: "listBans",
      summary: "The group's bans in force (moderators and up)",
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ bans: z.array(BanSchema) }), "Bans"),
        ...problems(401, 403, 404),
      },
    }),
    async (c) =>
      c.json({
        bans: await services.groupModeration.listBans(c.get("actor"), c.req.valid("param").id),
      }, 200),
  );

  // Invite links.
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "post",
      path: "/conversations/{id}/invites",
      operationId: "createInviteLink",
      summary: "Create an invite link",
      description: "Admins and up, or any member when `settings.membersCanAddMembers`.",
      request: {
        params: z.object({ id: Id }),
        body: optionalJsonBody(z.strictObject({
          expiresAt: Time.nullable().optional(),
          maxUses: z.number().int().nullable().optional(),
        })),
      },
      responses: {
        201: jsonResponse(InviteLinkSchema, "Created"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(
        await services.inviteLinks.create(
          c.get("actor"),
          c.req.valid("param").id,
          c.req.valid("json") ?? {},
        ),
        201,
      ),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "get",
      path: "/conversations/{id}/invites",
      operationId: "listInviteLinks",
      summary: "The group's invite links (not revoked), newest first",
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ invites: z.array(InviteLinkSchema) }), "Links"),
        ...problems(401, 403, 404),
      },
    }),
    async (c) =>
      c.json({
        invites: await services.inviteLinks.list(c.get("actor"), c.req.valid("param").id),
      }, 200),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "delete",
      path: "/conversations/{id}/invites/{code}",
      operationId: "revokeInviteLink",
      summary: "Revoke an invite link",
      request: { params: z.object({ id: Id, code: Id }) },
      responses: { 204: { description: "Revoked" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await services.inviteLinks.revoke(c.get("actor"), p.id, p.code);
      return c.body(null, 204);
    },
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "get",
      path: "/invites/{code}",
      operationId: "previewInvite",
      summary: "Preview the group of an invite link",
      request: { params: z.object({ code: Id }) },
      responses: {
        200: jsonResponse(z.object({ conversation: GroupPreview }), "The group"),
        ...problems(401, 404, 410),
      },
    }),
    async (c) => c.json(await services.inviteLinks.preview(c.req.valid("param").code), 200),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "post",
      path: "/invites/{code}/join",
      operationId: "joinByInvite",
      summary: "Join the group of an invite link",
      description: "410 `gone` once the link expired, was used up or revoked; 403 `banned`. " +
        "A member already gets the group without using the link.",
      request: { params: z.object({ code: Id }) },
      responses: {
        200: jsonResponse(z.object({ conversation: ConversationSchema }), "Joined"),
        ...problems(401, 403, 404, 409, 410),
      },
    }),
    async (c) =>
      c.json(await services.inviteLinks.join(c.get("actor"), c.req.valid("param").code), 200),
  );

  // Public groups.
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "get",
      path: "/conversations/discover",
      operationId: "discoverGroups",
      summary: "Public groups whose name contains q, by name",
      request: { query: PageQuery.extend({ q: z.string().max(64).optional() }) },
      responses: {
        200: jsonResponse(
          z.object({ conversations: z.array(GroupPreview), nextCursor: z.string().optional() }),
          "Groups",
        ),
        ...problems(400, 401),
      },
    }),
    async (c) => c.json(await services.inviteLinks.discover(c.req.valid("query")), 200),
  );
  r.openapi(
    createRoute({
      ...base,
      tags: ["Conversations"],
      method: "post",
      path: "/conversations/{id}/join",
      operationId: "joinPublicGroup",
      summary: "Join a public group",
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ conversation: ConversationSchema }), "Joined"),
        ...problems(401, 403, 404, 409),
      },
    }),
    async (c) =>
      c.json(
        await services.inviteLinks.joinPublic(c.get("actor"), c.req.valid("param").id),
        200,
      ),
  );
  return r;
}
