import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonResponse, problems, router } from "./_openapi.ts";
import { MessageSchema } from "./_message_schemas.ts";
import { Iso } from "./_schemas.ts";

const Id = z.string().max(64);
const PinParams = z.object({ id: Id, messageId: Id });

const PinSchema = z.object({
  message: MessageSchema,
  pinnedBy: z.string(),
  pinnedAt: Iso,
}).openapi("Pin");

/** Pinned messages of a conversation. */
export function pinRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Messages"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.pins;

  for (const method of ["put", "delete"] as const) {
    r.openapi(
      createRoute({
        ...base,
        method,
        path: "/conversations/{id}/pins/{messageId}",
        operationId: method === "put" ? "pinMessage" : "unpinMessage",
        summary: method === "put" ? "Pin a message" : "Unpin a message",
        description: "Moderators and up in groups, either member in a direct conversation. " +
          "Idempotent. A change is the durable event `pin.updated {messageId, pinned, by}` with a " +
          "system message. At most 50 pins per conversation (409 beyond); deleting a message " +
          "for everyone unpins it.",
        request: { params: PinParams },
        responses: {
          204: { description: method === "put" ? "Pinned" : "Unpinned" },
          ...problems(401, 403, 404, 409),
        },
      }),
      async (c) => {
        const p = c.req.valid("param");
        await svc.setPinned(c.get("actor"), p.id, p.messageId, method === "put");
        return c.body(null, 204);
      },
    );
  }

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/pins",
      operationId: "listPins",
      summary: "The pinned messages, newest pin first",
      request: { params: z.object({ id: Id }) },
      responses: {
        200: jsonResponse(z.object({ pins: z.array(PinSchema) }), "Pinned messages"),
        ...problems(401, 404),
      },
    }),
    async (c) => c.json({ pins: await svc.list(c.get("actor"), c.req.valid("param").id) }, 200),
  );
  return r;
}
