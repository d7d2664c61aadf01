import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, problems, router } from "./_openapi.ts";
import { SessionSchema } from "./_schemas.ts";

/** The caller's sessions (devices) and their revocation. */
export function sessionRoutes(services: Services) {
  const r = router();
  const auth = requireAuth(services.auth);

  r.openapi(
    createRoute({
      method: "get",
      path: "/sessions",
      operationId: "listSessions",
      tags: ["Accounts"],
      summary: "List your live sessions",
      security: bearer,
      middleware: [auth] as const,
      responses: {
        200: jsonResponse(z.object({ sessions: z.array(SessionSchema) }), "Your sessions"),
        ...problems(401),
      },
    }),
    async (c) => {
      const list = await services.auth.sessions(c.get("actor"));
      return c.json({
        sessions: list.map((s) => ({
          id: s.id,
          deviceName: s.deviceName,
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          current: s.current,
        })),
      }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: "/sessions/{id}",
      operationId: "revokeSession",
      tags: ["Accounts"],
      summary: "Revoke one of your sessions",
      security: bearer,
      middleware: [auth] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 204: { description: "Revoked" }, ...problems(401, 404) },
    }),
    async (c) => {
      await services.auth.revokeSession(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  return r;
}
