import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { MessageSchema } from "./_message_schemas.ts";

/** The caller's mentions feed. */
export function mentionRoutes(services: Services) {
  const r = router();
  r.openapi(
    createRoute({
      tags: ["Messages"],
      security: bearer,
      middleware: [requireAuth(services.auth)],
      method: "get",
      path: "/users/me/mentions",
      operationId: "listMentions",
      summary: "Messages that mention you (by name or @all), newest first",
      description: "Across the conversations you are a member of; your own messages are left out.",
      request: { query: PageQuery },
      responses: {
        200: jsonResponse(
          z.object({ messages: z.array(MessageSchema), nextCursor: z.string().optional() }),
          "Mentions",
        ),
        ...problems(400, 401),
      },
    }),
    async (c) => c.json(await services.mentions.list(c.get("actor"), c.req.valid("query")), 200),
  );
  return r;
}
