import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { invalidField } from "../src/domain/errors.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, problems, router } from "./_openapi.ts";
import { EventSchema, MessageSchema, ReactionSchema } from "./_message_schemas.ts";
import { Iso } from "./_schemas.ts";
import { SendFields } from "../src/domain/send.ts";

const Id = z.string().max(64);
const ConvParams = z.object({ id: Id });
const MessageParams = z.object({ id: Id, messageId: Id });
const Seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The body of a send: the same fields as the socket's `message.send` frame. */
export const SendMessage = SendFields.openapi("SendMessage");

const EventPage = z.object({
  events: z.array(EventSchema),
  hasMore: z.boolean(),
  nextAfter: z.number().int().openapi({
    description: "Pass as `after` for the next page (the last seq examined)",
  }),
});

/** Messages, reactions, markers, receipts and the event catch-up of one conversation. */
export function messageRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Messages"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.messages;

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations/{id}/messages",
      operationId: "sendMessage",
      summary: "Send a message (idempotent on clientMsgId)",
      description:
        "201 with the stored message; a retry with the same clientMsgId returns the SAME " +
        "message with 200. Answered only after the message is durably committed. 503 " +
        "`overloaded` (with `Retry-After`) when the server is past what it can commit in time " +
        "(`SEND_ADMISSION_MS`): nothing was stored; retry with the same clientMsgId.",
      request: { params: ConvParams, body: jsonBody(SendMessage) },
      responses: {
        201: jsonResponse(z.object({ message: MessageSchema }), "Stored"),
        200: jsonResponse(z.object({ message: MessageSchema }), "Already stored (retry)"),
        ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
      },
    }),
    async (c) => {
      const { message, created } = await svc.send(
        c.get("actor"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json({ message }, created ? 201 : 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/messages",
      operationId: "listMessages",
      summary: "History, always in ascending seq order",
      description:
        "`before`: the newest `limit` messages below SEQ; `after`: the oldest above SEQ; " +
        "neither: the newest page.",
      request: {
        params: ConvParams,
        query: z.object({
          before: Seq.optional(),
          after: Seq.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({ messages: z.array(MessageSchema), hasMore: z.boolean() }),
          "A page",
        ),
        ...problems(400, 401, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      if (q.before !== undefined && q.after !== undefined) {
        throw invalidField("before", "use before or after, not both");
      }
      return c.json(await svc.history(c.get("actor"), c.req.valid("param").id, q), 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "patch",
      path: "/conversations/{id}/messages/{messageId}",
      operationId: "editMessage",
      summary: "Edit your own message",
      request: {
        params: MessageParams,
        body: jsonBody(
          z.strictObject({ text: z.string().max(64 * 1024, "must be at most 32 KiB of UTF-8") }),
        ),
      },
      responses: {
        200: jsonResponse(MessageSchema, "The edited message"),
        ...problems(400, 401, 403, 404, 409, 413, 415, 422),
      },
    }),
    async (c) => {
      const { id, messageId } = c.req.valid("param");
      const { text } = c.req.valid("json");
      return c.json(await svc.edit(c.get("actor"), id, messageId, text), 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path: "/conversations/{id}/messages/{messageId}",
      operationId: "deleteMessage",
      summary: "Delete a message for you (default) or for everyone",
      request: {
        params: MessageParams,
        query: z.object({ for: z.enum(["me", "everyone"]).default("me") }),
      },
      responses: { 204: { description: "Deleted" }, ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await svc.delete(c.get("actor"), p.id, p.messageId, c.req.valid("query").for);
      return c.body(null, 204);
    },
  );

  for (const method of ["put", "delete"] as const) {
    r.openapi(
      createRoute({
        ...base,
        method,
        path: "/conversations/{id}/messages/{messageId}/reactions/{emoji}",
        operationId: method === "put" ? "addReaction" : "removeReaction",
        summary: method === "put"
          ? "Add your reaction (idempotent)"
          : "Remove your reaction (idempotent)",
        description: "`emoji` is URL-encoded and must be exactly one emoji grapheme.",
        request: { params: MessageParams.extend({ emoji: z.string().max(256) }) },
        responses: {
          200: jsonResponse(
            z.object({ reactions: z.array(ReactionSchema) }),
            "The message's reactions",
          ),
          ...problems(400, 401, 403, 404, 409),
        },
      }),
      async (c) => {
        const p = c.req.valid("param");
        const reactions = await svc.react(
          c.get("actor"),
          p.id,
          p.messageId,
          p.emoji,
          method === "put",
        );
        return c.json({ reactions }, 200);
      },
    );
  }

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/messages/{messageId}/edits",
      operationId: "listEditHistory",
      summary: "A message's edit history",
      description: "For members. `edits` are the texts the message's edits set, oldest first, " +
        "each with when (the last is the current text); `original` is the text as first sent. " +
        "Empty for a message never edited; 404 once it is deleted for everyone (delete and " +
        "erasure remove the history, as does expiry of a disappearing message).",
      request: { params: MessageParams },
      responses: {
        200: jsonResponse(
          z.object({
            original: z.object({ text: z.string(), createdAt: Iso }).optional(),
            edits: z.array(z.object({ text: z.string(), editedAt: Iso })),
          }).openapi("MessageEdits"),
          "The history",
        ),
        ...problems(401, 404),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await services.editHistory.edits(c.get("actor"), p.id, p.messageId), 200);
    },
  );

  for (const kind of ["read", "delivered"] as const) {
    r.openapi(
      createRoute({
        ...base,
        method: "post",
        path: `/conversations/{id}/${kind}`,
        operationId: kind === "read" ? "markRead" : "markDelivered",
        summary: kind === "read"
          ? "Move your read marker (monotonic)"
          : "Move your delivered marker (monotonic)",
        description:
          "A lower seq than the current marker is ignored. Markers are state, not events.",
        request: {
          params: ConvParams,
          body: jsonBody(z.strictObject({ seq: z.number().int().min(0) })),
        },
        responses: { 204: { description: "Recorded" }, ...problems(400, 401, 404, 413, 415) },
      }),
      async (c) => {
        await services.receipts.mark(
          c.get("actor"),
          c.req.valid("param").id,
          c.req.valid("json").seq,
          kind,
        );
        return c.body(null, 204);
      },
    );
  }

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/messages/{messageId}/receipts",
      operationId: "listReceipts",
      summary: "When each member received and read a message",
      request: { params: MessageParams },
      responses: {
        200: jsonResponse(
          z.object({
            receipts: z.array(
              z.object({ userId: z.string(), deliveredAt: Iso.optional(), readAt: Iso.optional() }),
            ),
          }),
          "Per member (not the sender)",
        ),
        ...problems(401, 404),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json({
        receipts: await services.receipts.forMessage(c.get("actor"), p.id, p.messageId),
      }, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/conversations/{id}/events",
      operationId: "listEvents",
      summary: "Durable events after a seq, in order (catch-up)",
      description: "`event` and `data` are exactly what the WebSocket `event` frame carries.",
      request: {
        params: ConvParams,
        query: z.object({
          after: Seq.default(0),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: jsonResponse(EventPage, "Events"),
        ...problems(400, 401, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await svc.events(c.get("actor"), c.req.valid("param").id, q.after, q.limit);
      // Event bodies are built per event name by EventLog.render (typed there as JSON objects);
      // every page the black-box suite reads is checked against this schema at run time.
      return c.json(page as z.infer<typeof EventPage>, 200);
    },
  );

  return r;
}
