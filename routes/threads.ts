import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { invalidField } from "../src/domain/errors.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { MessageSchema } from "./_message_schemas.ts";
import { Iso } from "./_schemas.ts";

const Id = z.string().max(64);
const ThreadParams = z.object({ id: Id, rootId: Id });
const Seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const ThreadSchema = z.object({
  conversationId: z.string(),
  root: MessageSchema,
  replyCount: z.number().int(),
  lastReplyAt: Iso,
  unreadCount: z.number().int().openapi({
    description: "Replies of others after your thread read marker",
  }),
}).openapi("Thread");

const ThreadPage = z.object({ threads: z.array(ThreadSchema), nextCursor: z.string().optional() });

/** Threads: reply pages, a conversation's threads, followed threads and thread read markers. */
export function threadRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Messages"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.threads;

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/threads/{rootId}/messages",
      operationId: "listThreadReplies",
      summary: "A thread's replies, always in ascending seq order, with its root",
      description:
        "Paged like the history: `before` the newest `limit` replies below SEQ, `after` the " +
        "oldest above SEQ, neither the newest page. Replies are sent with `threadId` on " +
        "`POST /conversations/{id}/messages`. 404 when rootId is no thread root here.",
      request: {
        params: ThreadParams,
        query: z.object({
          before: Seq.optional(),
          after: Seq.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({ root: MessageSchema, messages: z.array(MessageSchema), hasMore: z.boolean() }),
          "A page of replies",
        ),
        ...problems(400, 401, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      if (q.before !== undefined && q.after !== undefined) {
        throw invalidField("before", "use before or after, not both");
      }
      const p = c.req.valid("param");
      return c.json(await svc.replies(c.get("actor"), p.id, p.rootId, q), 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/threads",
      operationId: "listThreads",
      summary: "The conversation's threads, latest reply first",
      description: "Each with its root (carrying `thread`), reply count and your unread count.",
      request: { params: z.object({ id: Id }), query: PageQuery },
      responses: { 200: jsonResponse(ThreadPage, "Threads"), ...problems(400, 401, 404) },
    }),
    async (c) =>
      c.json(
        await svc.list(c.get("actor"), c.req.valid("param").id, c.req.valid("query")),
        200,
      ),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations/{id}/threads/{rootId}/read",
      operationId: "markThreadRead",
      summary: "Move your read marker in a thread (monotonic)",
      description: "A lower seq than the current marker is ignored; a move reaches your other " +
        "devices as the user event `thread.read {conversationId, rootId, seq}`.",
      request: {
        params: ThreadParams,
        body: jsonBody(z.strictObject({ seq: z.number().int().min(0) })),
      },
      responses: { 204: { description: "Recorded" }, ...problems(400, 401, 404, 413, 415) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await svc.markRead(c.get("actor"), p.id, p.rootId, c.req.valid("json").seq);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/users/me/threads",
      operationId: "listFollowedThreads",
      summary: "The threads you follow, latest reply first",
      description: "Threads you replied in, were mentioned in, or whose root you wrote, in " +
        "conversations you are a member of.",
      request: { query: PageQuery },
      responses: { 200: jsonResponse(ThreadPage, "Threads"), ...problems(400, 401) },
    }),
    async (c) => c.json(await svc.followed(c.get("actor"), c.req.valid("query")), 200),
  );
  return r;
}
