import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { MeSchema, PrivacySchema, PublicUserSchema } from "./_schemas.ts";

const ProfilePatch = z.strictObject({
  displayName: z.string().max(256).optional(),
  username: z.string().max(64).optional(),
  avatarMediaId: z.string().max(64).nullable().optional(),
  statusText: z.string().max(1024).nullable().optional(),
  presence: z.enum(["online", "away", "dnd", "invisible"]).optional(),
  privacy: PrivacySchema.partial().strict().optional(),
}).openapi("ProfilePatch");

/** Profiles and user search. */
export function userRoutes(services: Services) {
  const r = router();
  const auth = requireAuth(services.auth);

  r.openapi(
    createRoute({
      method: "get",
      path: "/users/me",
      operationId: "getMe",
      tags: ["Users"],
      summary: "Your profile",
      security: bearer,
      middleware: [auth] as const,
      responses: { 200: jsonResponse(MeSchema, "Your profile"), ...problems(401) },
    }),
    async (c) => c.json(await services.users.me(c.get("actor")), 200),
  );

  r.openapi(
    createRoute({
      method: "patch",
      path: "/users/me",
      operationId: "updateMe",
      tags: ["Users"],
      summary: "Update your profile, presence or privacy",
      security: bearer,
      middleware: [auth] as const,
      request: { body: jsonBody(ProfilePatch) },
      responses: {
        200: jsonResponse(MeSchema, "Updated profile"),
        ...problems(400, 401, 409, 413, 415),
      },
    }),
    async (c) => c.json(await services.users.updateMe(c.get("actor"), c.req.valid("json")), 200),
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/users",
      operationId: "searchUsers",
      tags: ["Users"],
      summary: "Find users whose username or display name starts with a prefix",
      security: bearer,
      middleware: [auth] as const,
      request: { query: PageQuery.extend({ q: z.string().min(1).max(64) }) },
      responses: {
        200: jsonResponse(
          z.object({ users: z.array(PublicUserSchema), nextCursor: z.string().optional() }),
          "Matching users, by username",
        ),
        ...problems(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await services.users.search(c.get("actor").userId, q.q, q.limit, q.cursor),
        200,
      );
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/users/{id}",
      operationId: "getUser",
      tags: ["Users"],
      summary: "A user's public profile",
      description:
        "Presence as others see it (invisible shows as offline); lastSeenAt only where " +
        "the owner's privacy allows.",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: {
        200: jsonResponse(PublicUserSchema, "Public profile"),
        ...problems(400, 401, 404),
      },
    }),
    async (c) =>
      c.json(await services.users.get(c.get("actor").userId, c.req.valid("param").id), 200),
  );

  return r;
}
