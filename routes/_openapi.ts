import { OpenAPIHono, z } from "@hono/zod-openapi";
import { validationFailed } from "../src/domain/errors.ts";
import { fieldProblems } from "../src/domain/validation.ts";
import type { AppEnv } from "./_env.ts";

/** RFC 9457 problem details, as every error is sent. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().openapi({ example: "validation_failed" }),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid request (`validation_failed`, with field `errors`)",
  401: "Missing, invalid or revoked credentials (`unauthorized`)",
  403: "Not allowed (`forbidden`; or a safety code: `blocked`, `banned`, `muted`, `suspended`)",
  404: "Not found, or not visible to you (`not_found`)",
  409: "Conflicts with current state (`conflict`)",
  413: "Body too large (`payload_too_large`)",
  410: "No longer available (`gone`)",
  415: "Unsupported or mismatched media type (`unsupported_media_type`)",
  422: "The content is not allowed (`content_blocked`)",
  429: "Rate limited (`rate_limited` or `slow_mode`, with `Retry-After`)",
  500: "An unexpected error, logged and reported with the request id (`internal_error`)",
  503: "A dependency is unavailable; retry later (`unavailable`)",
};

/**
 * OpenAPI responses for the given error statuses, all problem+json. Every operation may also
 * answer 500 (`internal_error`), so it is always listed.
 */
export function problems(...statuses: number[]) {
  return Object.fromEntries([...new Set([...statuses, 500])].map((s) => [s, {
    description: STATUS_TEXT[s] ?? "Error",
    content: { "application/problem+json": { schema: ProblemSchema } },
  }]));
}

/** An OpenAPI JSON response. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

/** An optional JSON request body (validated when sent; `c.req.valid("json")` may be undefined). */
export function optionalJsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: false };
}

/** Bearer-token security requirement for OpenAPI routes. */
export const bearer = [{ bearerAuth: [] }];

/** Cursor pagination query: `limit` (1–200, default 50) and an opaque `cursor`. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2048).optional(),
});

/** A router whose zod validation failures become 400 `validation_failed` problems with field errors. */
export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw validationFailed(fieldProblems(result.error.issues));
      }
    },
  });
}
