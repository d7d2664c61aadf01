import { createRoute, z } from "@hono/zod-openapi";
import { ClientMsgId, SendMediaIds, SendText } from "../src/domain/send.ts";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, PageQuery, problems, router } from "./_openapi.ts";
import { Iso } from "./_schemas.ts";

const ScheduledSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  clientMsgId: z.string(),
  text: z.string().optional(),
  mediaIds: z.array(z.string()),
  sendAt: Iso,
  status: z.enum(["pending", "failed"]),
  failure: z.object({ code: z.string(), detail: z.string() }).optional().openapi({
    description: "Why the send was refused at `sendAt` (the problem's code and detail)",
  }),
  createdAt: Iso,
  updatedAt: Iso,
}).openapi("ScheduledMessage");

const Schedule = z.strictObject({
  clientMsgId: ClientMsgId,
  text: SendText.optional(),
  mediaIds: SendMediaIds.optional(),
  sendAt: z.string().max(64).openapi({ example: "2026-12-24T18:00:00.000Z" }),
}).openapi("ScheduleMessage");

const SchedulePatch = z.strictObject({
  text: SendText.optional(),
  mediaIds: SendMediaIds.optional(),
  sendAt: z.string().max(64).optional(),
}).openapi("ScheduledMessagePatch");

const One = z.object({ scheduled: ScheduledSchema });

/** Scheduled messages: schedule, list, change and cancel until sent. */
export function scheduledRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Messages"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.scheduled;
  const IdParam = z.object({ id: z.string().max(64) });

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/conversations/{id}/scheduled",
      operationId: "scheduleMessage",
      summary: "Schedule a message",
      description:
        "Sent at `sendAt` (in the future, at most a year ahead) as an ordinary message " +
        "of yours, exactly once, with the permissions that hold then. Idempotent on clientMsgId " +
        "(200 with the first). A refused send leaves it `failed` and your sockets get " +
        "`scheduled.failed` with the problem's code; a sent one is removed (`scheduled.sent`).",
      request: { params: IdParam, body: jsonBody(Schedule) },
      responses: {
        201: jsonResponse(One, "Scheduled"),
        200: jsonResponse(One, "Already scheduled under this clientMsgId"),
        ...problems(400, 401, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const { scheduled, created } = await svc.schedule(
        c.get("actor"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return created ? c.json({ scheduled }, 201) : c.json({ scheduled }, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/users/me/scheduled",
      operationId: "listScheduled",
      summary: "Your scheduled messages, soonest first (failed ones included)",
      request: { query: PageQuery },
      responses: {
        200: jsonResponse(
          z.object({ scheduled: z.array(ScheduledSchema), nextCursor: z.string().optional() }),
          "Scheduled messages",
        ),
        ...problems(400, 401),
      },
    }),
    async (c) => c.json(await svc.list(c.get("actor"), c.req.valid("query")), 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "patch",
      path: "/scheduled/{id}",
      operationId: "updateScheduled",
      summary: "Change a scheduled message before it is sent",
      description: "409 while it is being sent, or once it failed.",
      request: { params: IdParam, body: jsonBody(SchedulePatch) },
      responses: {
        200: jsonResponse(One, "Changed"),
        ...problems(400, 401, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const scheduled = await svc.update(
        c.get("actor"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json({ scheduled }, 200);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path: "/scheduled/{id}",
      operationId: "cancelScheduled",
      summary: "Cancel a scheduled message (or dismiss a failed one)",
      description: "409 while it is being sent.",
      request: { params: IdParam },
      responses: { 204: { description: "Cancelled" }, ...problems(401, 404, 409) },
    }),
    async (c) => {
      await svc.cancel(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return r;
}
