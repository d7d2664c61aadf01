import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../src/domain/errors.ts";

/** An RFC 9457 problem details body as Parley sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ path: string; message: string }>;
}

const HTTP_CODES: Record<number, [code: string, title: string]> = {
  400: ["validation_failed", "Validation failed"],
  401: ["unauthorized", "Unauthorized"],
  403: ["forbidden", "Forbidden"],
  404: ["not_found", "Not found"],
  405: ["method_not_allowed", "Method not allowed"],
  409: ["conflict", "Conflict"],
  413: ["payload_too_large", "Payload too large"],
  415: ["unsupported_media_type", "Unsupported media type"],
  429: ["rate_limited", "Too many requests"],
  503: ["unavailable", "Service unavailable"],
};

/** The problem type URI for a code; documented at `/docs/problems`. */
export function problemType(code: string): string {
  return `/docs/problems#${code}`;
}

/**
 * Turns anything thrown into a problem: {@link AppError}s keep their status and code, Hono's own
 * HTTP errors (malformed JSON, wrong content type, body limit) map to the same codes, and everything
 * else is a 500 that reveals nothing. `internal` tells the caller to log and report it.
 */
export function toProblem(
  err: unknown,
): { problem: Problem; internal: boolean; retryAfter?: number } {
  if (err instanceof AppError) {
    return {
      problem: {
        type: problemType(err.code),
        title: err.title,
        status: err.status,
        detail: err.message,
        code: err.code,
        ...(err.extra.errors ? { errors: err.extra.errors } : {}),
      },
      internal: false,
      retryAfter: err.extra.retryAfterSeconds,
    };
  }
  if (err instanceof HTTPException && err.status < 500) {
    const [code, title] = HTTP_CODES[err.status] ?? ["bad_request", "Bad request"];
    const malformed = /malformed json/i.test(err.message);
    const detail = malformed ? "Request body is not valid JSON" : err.message || title;
    return {
      problem: {
        type: problemType(code),
        title,
        status: err.status,
        detail,
        code,
        ...(code === "validation_failed" ? { errors: [{ path: "", message: detail }] } : {}),
      },
      internal: false,
    };
  }
  return {
    problem: {
      type: problemType("internal_error"),
      title: "Internal server error",
      status: 500,
      detail: "Something went wrong on our side. It has been reported; quote the request id.",
      code: "internal_error",
    },
    internal: true,
  };
}

/** Sends a problem as `application/problem+json`, with `Retry-After` when given. */
export function sendProblem(c: Context, problem: Problem, retryAfter?: number): Response {
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  const requestId = c.get("requestId" as never) as string | undefined;
  const body = { ...problem, instance: c.req.path, ...(requestId ? { requestId } : {}) };
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}

/** Every problem code Parley uses, with what it means (served at `/docs/problems`). */
export const PROBLEM_CODES: Record<string, string> = {
  validation_failed: "The request is malformed or a field is invalid; `errors` lists each field.",
  unauthorized: "No valid credentials: missing, expired or revoked access token, or bad login.",
  forbidden: "You are known and may see the resource, but your role does not allow this action.",
  not_found: "No such resource, or you may not know it exists (non-members of a conversation).",
  method_not_allowed: "The route exists but not with this method.",
  conflict: "The request conflicts with current state (e.g. the username is taken).",
  payload_too_large: "The body is over the limit for this route or media kind.",
  unsupported_media_type: "The content type is not accepted, or the bytes do not match it.",
  range_not_satisfiable: "The `Range` asked for bytes the file does not have.",
  rate_limited: "Too many requests; wait for `Retry-After` seconds.",
  blocked: "The other user blocks you: no direct conversation with them, no adding them to groups.",
  banned:
    "You are banned from this conversation: no add, invite link or public join brings you back.",
  muted: "A moderator muted you in this conversation until the time in `detail`.",
  suspended: "A site administrator suspended this account.",
  gone: "The invite link expired, was used up or was revoked.",
  content_blocked: "The text contains a word blocked in this conversation or on this site.",
  slow_mode: "Slow mode: one message per interval here; wait for `Retry-After` seconds.",
  unavailable: "A dependency is unavailable; retry later.",
  internal_error: "An unexpected error. It was logged and reported with the request id.",
};
