import { createRoute, z } from "@hono/zod-openapi";
import { SendText, WireId } from "../src/domain/send.ts";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, problems, router } from "./_openapi.ts";
import { Iso } from "./_schemas.ts";

const DraftSchema = z.object({
  conversationId: z.string(),
  threadId: z.string().optional(),
  text: z.string(),
  updatedAt: Iso,
}).openapi("Draft");

const Params = z.object({ id: z.string().max(64) });
const ThreadQuery = z.object({ threadId: WireId.optional() });

/** Drafts: one per conversation (and per thread), synced to the user's other devices. */
export function draftRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Messages"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.drafts;
  const path = "/conversations/{id}/draft";

  r.openapi(
    createRoute({
      ...base,
      method: "put",
      path,
      operationId: "saveDraft",
      summary: "Save your draft (of the conversation, or of a thread with threadId)",
      description: "Kept encrypted. Your other devices get a `draft.updated` user event " +
        "(`{conversationId, threadId?, text, updatedAt}`; `deleted: true` once discarded).",
      request: {
        params: Params,
        body: jsonBody(
          z.strictObject({
            text: SendText,
            threadId: WireId.optional(),
          }).openapi("DraftInput"),
        ),
      },
      responses: {
        200: jsonResponse(z.object({ draft: DraftSchema }), "Saved"),
        ...problems(400, 401, 404, 413, 415),
      },
    }),
    async (c) => {
      const draft = await svc.put(c.get("actor"), c.req.valid("param").id, c.req.valid("json"));
      return c.json({ draft }, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path,
      operationId: "getDraft",
      summary: "Your draft (404 when there is none)",
      request: { params: Params, query: ThreadQuery },
      responses: {
        200: jsonResponse(z.object({ draft: DraftSchema }), "The draft"),
        ...problems(400, 401, 404),
      },
    }),
    async (c) => {
      const { threadId } = c.req.valid("query");
      const draft = await svc.get(c.get("actor"), c.req.valid("param").id, threadId);
      return c.json({ draft }, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path,
      operationId: "deleteDraft",
      summary: "Discard your draft (idempotent)",
      request: { params: Params, query: ThreadQuery },
      responses: { 204: { description: "Discarded" }, ...problems(400, 401, 404) },
    }),
    async (c) => {
      await svc.delete(c.get("actor"), c.req.valid("param").id, c.req.valid("query").threadId);
      return c.body(null, 204);
    },
  );
  return r;
}
