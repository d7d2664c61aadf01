import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/app.ts";
import { notFound } from "../src/domain/errors.ts";
import { requireAdmin, requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { Iso } from "./_schemas.ts";

const AdminUser = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(["user", "admin"]),
  createdAt: Iso,
  deletedAt: Iso.optional(),
}).openapi("AdminUser");

const AuditEntry = z.object({
  id: z.string(),
  at: Iso,
  action: z.string(),
  actorId: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
}).openapi("AuditEntry");

/** The admin route group: global roles and the audit log (admins only). */
export function adminRoutes(services: Services) {
  const r = router();
  const guard = [requireAuth(services.auth), requireAdmin(services.store)];

  r.openapi(
    createRoute({
      method: "patch",
      path: "/admin/users/{id}",
      tags: ["Admin"],
      summary: "Change a user's global role",
      security: bearer,
      middleware: guard,
      request: {
        params: z.object({ id: z.string().max(64) }),
        body: jsonBody(z.object({ role: z.enum(["user", "admin"]) })),
      },
      responses: {
        200: jsonResponse(AdminUser, "Updated user"),
        ...problems(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { role } = c.req.valid("json");
      const before = await services.store.getUser(id);
      if (!before || before.deletedAt) throw notFound("User not found");
      const user = await services.store.updateUser(id, { role });
      if (before.role !== role) {
        await services.audit.record({
          action: "user.role_changed",
          actorId: c.get("actor").userId,
          targetId: id,
          meta: { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") },
          details: { from: before.role, to: role },
        });
      }
      return c.json({
        id: user.id,
        username: user.username,
        displayName: user.displayName,
        role: user.role,
        createdAt: user.createdAt,
      }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/audit",
      tags: ["Admin"],
      summary: "The audit log, newest first",
      description: "Logins, password and role changes, session revocations, erasures: who, what, " +
        "when and from where. Never message content.",
      security: bearer,
      middleware: guard,
      request: {
        query: PageQuery.extend({
          action: z.string().max(64).optional(),
          actorId: z.string().max(64).optional(),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({ entries: z.array(AuditEntry), nextCursor: z.string().optional() }),
          "Audit entries",
        ),
        ...problems(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const entries = await services.audit.list({
        limit: q.limit + 1,
        before: q.cursor,
        action: q.action,
        actorId: q.actorId,
      });
      const page = entries.slice(0, q.limit);
      return c.json(
        entries.length > q.limit
          ? { entries: page, nextCursor: page.at(-1)!.id }
          : { entries: page },
        200,
      );
    },
  );

  return r;
}
