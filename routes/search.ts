import { createRoute, z } from "@hono/zod-openapi";
import { WireId } from "../src/domain/send.ts";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { MessageSchema } from "./_message_schemas.ts";
import { bearer, jsonResponse, problems, router } from "./_openapi.ts";

const Query = z.object({
  q: z.string().min(1).max(1000).openapi({
    description: 'Words (all must match), "quoted phrases"; the last word also matches as a prefix',
  }),
  conversationId: WireId.optional(),
  senderId: WireId.optional(),
  has: z.enum(["media", "link"]).optional(),
  before: z.iso.datetime({ offset: true }).optional(),
  after: z.iso.datetime({ offset: true }).optional(),
  sort: z.enum(["relevance", "recent"]).default("recent"),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(64).optional(),
});

const ResultSchema = z.object({
  message: MessageSchema,
  conversationId: z.string(),
  highlights: z.array(z.array(z.number().int()).length(2)).openapi({
    description: "[start, end) offsets of the matched words in message.text",
  }),
}).openapi("SearchResult");

/** Message search over the caller's conversations. */
export function searchRoutes(services: Services) {
  const r = router();
  r.openapi(
    createRoute({
      tags: ["Messages"],
      security: bearer,
      middleware: [requireAuth(services.auth)],
      method: "get",
      path: "/search/messages",
      operationId: "searchMessages",
      summary: "Search messages in your conversations",
      description: "Case-, accent- and width-insensitive; every word must match, quoted " +
        "phrases in order, and the last (unfinished) word as a prefix. Only conversations you " +
        "are a member of now; never messages deleted, expired, or deleted for you. A message " +
        "is findable within about a second of its commit, and an edit's old words stop " +
        "matching as quickly. `sort=relevance` ranks the 200 most recent matches. A page may " +
        "hold fewer than `limit` results and still carry a `nextCursor` (the search checks a " +
        "bounded number of candidates per request): only `nextCursor: null` means the end. " +
        "503 when the server keeps no index (`SEARCH_ENABLED=false`).",
      request: { query: Query },
      responses: {
        200: jsonResponse(
          z.object({ results: z.array(ResultSchema), nextCursor: z.string().nullable() }),
          "Matches, newest (or most relevant) first",
        ),
        ...problems(400, 401, 404, 503),
      },
    }),
    async (c) => c.json(await services.search.search(c.get("actor"), c.req.valid("query")), 200),
  );
  return r;
}
