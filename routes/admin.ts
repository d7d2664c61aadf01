import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requestMeta, requireAdmin, requireAuth } from "./_middleware.ts";
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

const DayCount = z.number().int();

const Engagement = z.object({
  from: z.string(),
  to: z.string(),
  exact: z.boolean().openapi({
    description: "False when active-user figures are HyperLogLog estimates (Redis, ~0.8% error)",
  }),
  days: z.array(z.object({
    date: z.string().openapi({ example: "2026-11-24" }),
    activeUsers: z.object({ daily: DayCount, weekly: DayCount, monthly: DayCount }).openapi({
      description: "Distinct users with an authenticated request or socket frame that day (DAU), " +
        "in the 7 days (WAU) and in the 30 days (MAU) ending that day",
    }),
    messagesSent: DayCount,
    mediaShared: z.object({
      image: DayCount,
      video: DayCount,
      audio: DayCount,
      document: DayCount,
    }).openapi({ description: "Attachments of messages sent that day, by kind" }),
    registrations: DayCount,
  })),
}).openapi("Engagement");

const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD");

/** The admin route group: global roles, the audit log and engagement figures (admins only). */
export function adminRoutes(services: Services) {
  const r = router();
  const guard = [requireAuth(services.auth), requireAdmin(services.admin)];

  r.openapi(
    createRoute({
      method: "patch",
      path: "/admin/users/{id}",
      operationId: "setUserRole",
      tags: ["Admin"],
      summary: "Change a user's global role",
      security: bearer,
      middleware: guard,
      request: {
        params: z.object({ id: z.string().max(64) }),
        body: jsonBody(z.strictObject({ role: z.enum(["user", "admin"]) })),
      },
      responses: {
        200: jsonResponse(AdminUser, "Updated user"),
        ...problems(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { role } = c.req.valid("json");
      const user = await services.admin.setRole(c.get("actor"), id, role, requestMeta(c));
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
      operationId: "listAuditLog",
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

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/metrics",
      operationId: "getEngagementMetrics",
      tags: ["Admin"],
      summary: "Engagement per day: DAU/WAU/MAU, messages, media shared, registrations",
      description: "For each UTC day from `from` to `to` (inclusive, at most 366 days). The same " +
        "figures are on `/metrics` as Prometheus series (`parley_active_users`, " +
        "`parley_messages_sent_total`, `parley_media_shared_total`, `parley_registrations_total`).",
      security: bearer,
      middleware: guard,
      request: { query: z.object({ from: DAY, to: DAY }) },
      responses: {
        200: jsonResponse(Engagement, "Engagement by day"),
        ...problems(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await services.activity.report(q.from, q.to), 200);
    },
  );

  return r;
}
