import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { invalidField } from "../src/domain/errors.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { ConversationSchema, MemberSchema, SettingsSchema } from "./_message_schemas.ts";

const Id = z.string().max(64);

const AddedSchema = z.object({
  members: z.array(MemberSchema).openapi({ description: "The members that were added" }),
  added: z.array(z.string()),
  invited: z.array(z.string()).openapi({
    description: "Users invited instead (their privacy.groupAdds does not admit you)",
  }),
});
const ConvParams = z.object({ id: Id });
const MemberParams = z.object({ id: Id, userId: Id });

const CreateConversation = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("direct"), userId: Id }),
  z.strictObject({
    type: z.literal("group"),
    name: z.string().max(1024),
    description: z.string().max(8192).nullable().optional(),
    avatarMediaId: Id.nullable().optional(),
    memberIds: z.array(Id).max(100_000).default([]),
  }),
]).openapi("CreateConversation");

const UpdateConversation = z.strictObject({
  name: z.string().max(1024).optional(),
  description: z.string().max(8192).nullable().optional(),
  avatarMediaId: Id.nullable().optional(),
  settings: SettingsSchema.partial().strict().optional(),
  retentionDays: z.number().int().min(1).max(3650).nullable().optional()
    .openapi({ description: "Messages older than this many days are deleted; null keeps them" }),
}).openapi("UpdateConversation");

const MyState = z.strictObject({
  muted: z.boolean().optional(),
  mutedUntil: z.string().max(64).nullable().optional().openapi({ format: "date-time" }),
  archived: z.boolean().optional(),
  notify: z.enum(["all", "mentions", "none"]).optional().openapi({
    description: "What reaches you by push: everything, mentions of you (and your keywords), " +
      "or nothing. Default: all in direct conversations and groups below 100 members, else mentions.",
  }),
}).openapi("MyConversationState");

/** Conversations, groups, members, roles and per-user state. */
export function conversationRoutes(services: Services) {
  const r = router();
  const mw = [requireAuth(services.auth)];
  const svc = services.conversations;
  const members = services.members;
  const base = { tags: ["Conversations"], security: bearer, middleware: mw };

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations",
      operationId: "createConversation",
      summary: "Open the direct conversation with a user, or create a group",
      description:
        "Direct: idempotent, 201 the first time and 200 after. Group: 201, you are the owner.",
      request: { body: jsonBody(CreateConversation) },
      responses: {
        201: jsonResponse(ConversationSchema, "Created"),
        200: jsonResponse(ConversationSchema, "The existing direct conversation"),
        ...problems(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const actor = c.get("actor");
      if (body.type === "direct") {
        const { view, created } = await svc.openDirect(actor, body.userId);
        return c.json(view, created ? 201 : 200);
      }
      return c.json(await svc.createGroup(actor, body), 201);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations",
      operationId: "listConversations",
      summary: "Your conversations, most recent activity first",
      request: {
        query: PageQuery.extend({ archived: z.enum(["true", "false"]).default("false") }),
      },
      responses: {
        200: jsonResponse(
          z.object({
            conversations: z.array(ConversationSchema),
            nextCursor: z.string().optional(),
          }),
          "A page of conversations",
        ),
        ...problems(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await svc.list(c.get("actor"), {
          archived: q.archived === "true",
          limit: q.limit,
          cursor: q.cursor,
        }),
        200,
      );
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}",
      operationId: "getConversation",
      summary: "One conversation",
      request: { params: ConvParams },
      responses: {
        200: jsonResponse(ConversationSchema, "The conversation"),
        ...problems(401, 404),
      },
    }),
    async (c) => c.json(await svc.get(c.get("actor"), c.req.valid("param").id), 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "patch",
      path: "/conversations/{id}",
      operationId: "updateConversation",
      summary: "Change a group's name, description, avatar, settings or retention",
      request: { params: ConvParams, body: jsonBody(UpdateConversation) },
      responses: {
        200: jsonResponse(ConversationSchema, "The updated conversation"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(await svc.update(c.get("actor"), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path: "/conversations/{id}",
      operationId: "deleteConversation",
      summary: "Delete a group (owner only)",
      request: { params: ConvParams },
      responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      await svc.deleteGroup(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations/{id}/owner",
      operationId: "transferOwnership",
      summary: "Transfer ownership (owner only); you become an admin",
      request: { params: ConvParams, body: jsonBody(z.strictObject({ userId: Id })) },
      responses: {
        200: jsonResponse(ConversationSchema, "The conversation"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(
        await members.transferOwnership(
          c.get("actor"),
          c.req.valid("param").id,
          c.req.valid("json").userId,
        ),
        200,
      ),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/members",
      operationId: "listMembers",
      summary: "Members in join order",
      request: { params: ConvParams, query: PageQuery },
      responses: {
        200: jsonResponse(
          z.object({ members: z.array(MemberSchema), nextCursor: z.string().optional() }),
          "Members",
        ),
        ...problems(400, 401, 404),
      },
    }),
    async (c) =>
      c.json(
        await members.list(c.get("actor"), c.req.valid("param").id, c.req.valid("query")),
        200,
      ),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations/{id}/members",
      operationId: "addMembers",
      summary: "Add members (moderator and up, or anyone when membersCanAddMembers)",
      description: "A user who blocks you cannot be added (403 `blocked`), nor a banned one (403 " +
        "`banned`). A user whose `privacy.groupAdds` does not admit you is invited instead: " +
        "then the answer is 202 with them in `invited` (and an `invitation.created` user event " +
        "reaches them).",
      request: {
        params: ConvParams,
        body: jsonBody(z.strictObject({ userIds: z.array(Id).min(1).max(1000) })),
      },
      responses: {
        201: jsonResponse(AddedSchema, "The members that were added"),
        202: jsonResponse(AddedSchema, "Some (or all) were invited rather than added"),
        200: jsonResponse(AddedSchema, "Everyone named was already a member (`members` is empty)"),
        ...problems(400, 401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const added = await members.addMembers(c.get("actor"), p.id, c.req.valid("json").userIds);
      return c.json(
        added,
        added.invited.length > 0 ? 202 : added.members.length > 0 ? 201 : 200,
      );
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path: "/conversations/{id}/members/{userId}",
      operationId: "removeMember",
      summary: "Remove a member, or leave when it is you",
      request: { params: MemberParams },
      responses: { 204: { description: "Removed" }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await members.removeMember(c.get("actor"), p.id, p.userId);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "patch",
      path: "/conversations/{id}/members/{userId}",
      operationId: "updateMember",
      summary: "Change a member's role, or mute them for a while",
      description: "`role`: admins set up to moderator, the owner admin too. `mutedUntil` (a " +
        "time, or null to lift): moderators and up, on members ranked below; the member's " +
        "sends get 403 `muted` until then (a `member.updated` event with a system message).",
      request: {
        params: MemberParams,
        body: jsonBody(
          z.strictObject({
            role: z.enum(["owner", "admin", "moderator", "member"]).optional(),
            mutedUntil: z.string().max(64).nullable().optional().openapi({ format: "date-time" }),
          }),
        ),
      },
      responses: {
        200: jsonResponse(MemberSchema, "The member"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const body = c.req.valid("json");
      if (body.role === undefined && body.mutedUntil === undefined) {
        throw invalidField("role", "give role or mutedUntil");
      }
      let view = body.role === undefined
        ? undefined
        : await members.setRole(c.get("actor"), p.id, p.userId, body.role);
      if (body.mutedUntil !== undefined) {
        view = await services.groupModeration.setMute(
          c.get("actor"),
          p.id,
          p.userId,
          body.mutedUntil,
        );
      }
      return c.json(view!, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "put",
      path: "/conversations/{id}/me",
      operationId: "setMyConversationState",
      summary: "Your own state: muted (optionally until a time), archived, push level (notify)",
      request: { params: ConvParams, body: jsonBody(MyState) },
      responses: {
        200: jsonResponse(ConversationSchema, "The conversation"),
        ...problems(400, 401, 404, 413, 415),
      },
    }),
    async (c) =>
      c.json(
        await svc.setMyState(c.get("actor"), c.req.valid("param").id, c.req.valid("json")),
        200,
      ),
  );

  return r;
}
