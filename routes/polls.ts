import { createRoute, z } from "@hono/zod-openapi";
import { POLL_LIMITS } from "../src/domain/poll.ts";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, problems, router } from "./_openapi.ts";
import { MessageSchema } from "./_message_schemas.ts";

const Id = z.string().max(64);

/** Votes on polls. */
export function pollRoutes(services: Services) {
  const r = router();
  r.openapi(
    createRoute({
      tags: ["Messages"],
      security: bearer,
      middleware: [requireAuth(services.auth)],
      method: "put",
      path: "/conversations/{id}/messages/{messageId}/votes",
      operationId: "vote",
      summary: "Vote on a poll (replaces your votes; an empty list withdraws them)",
      description:
        "One option unless the poll is `multiple`; 409 once it is closed. A change is a " +
        "durable `message.updated` with the poll as each member sees it (`myVotes`; `voterIds` " +
        "only when the poll is not anonymous).",
      request: {
        params: z.object({ id: Id, messageId: Id }),
        body: jsonBody(
          z.strictObject({ optionIds: z.array(Id).max(POLL_LIMITS.maxOptions) }).openapi("Votes"),
        ),
      },
      responses: {
        200: jsonResponse(z.object({ message: MessageSchema }), "The poll after the vote"),
        ...problems(400, 401, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const message = await services.polls.vote(
        c.get("actor"),
        p.id,
        p.messageId,
        c.req.valid("json").optionIds,
      );
      return c.json({ message }, 200);
    },
  );
  return r;
}
