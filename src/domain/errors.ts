/** One field-level problem in a 400 answer: where (`path`, dotted) and what is wrong with it. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * A failure the client caused or may act on. Edges turn it into an RFC 9457 problem with the same
 * `status` and stable `code`; anything that is not an `AppError` is a 500 whose details stay internal.
 */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extra: { errors?: FieldProblem[]; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
  }
}

/** 400 `validation_failed`, listing each field problem. */
export function validationFailed(errors: FieldProblem[], detail?: string): AppError {
  return new AppError(
    400,
    "validation_failed",
    "Validation failed",
    detail ?? errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; "),
    { errors },
  );
}

/** 400 `validation_failed` for one field. */
export function invalidField(path: string, message: string): AppError {
  return validationFailed([{ path, message }]);
}

/** 401 `unauthorized`. */
export function unauthorized(detail = "Authentication required"): AppError {
  return new AppError(401, "unauthorized", "Unauthorized", detail);
}

/** 403 `forbidden`: the caller is known and may see the resource, but may not do this. */
export function forbidden(detail = "You may not do this"): AppError {
  return new AppError(403, "forbidden", "Forbidden", detail);
}

/** 404 `not_found`; also what non-members get for a conversation, so its existence does not leak. */
export function notFound(detail = "Not found"): AppError {
  return new AppError(404, "not_found", "Not found", detail);
}

/** 409 `conflict`. */
export function conflict(detail: string): AppError {
  return new AppError(409, "conflict", "Conflict", detail);
}

/** 403 `blocked`: the other user blocks the caller (no direct conversation, no group add). */
export function blocked(detail = "This user does not accept this from you"): AppError {
  return new AppError(403, "blocked", "Blocked", detail);
}

/** 403 `banned`: the caller is banned from this conversation. */
export function banned(detail = "You are banned from this conversation"): AppError {
  return new AppError(403, "banned", "Banned", detail);
}

/** 403 `muted`: a moderator muted the caller here until a time. */
export function muted(until: string): AppError {
  return new AppError(403, "muted", "Muted", `You are muted in this conversation until ${until}`);
}

/** 403 `suspended`: a site admin suspended the account. */
export function suspended(until: string | null): AppError {
  return new AppError(
    403,
    "suspended",
    "Suspended",
    until ? `This account is suspended until ${until}` : "This account is suspended",
  );
}

/** 410 `gone`: it existed but is no more (an invite link expired, used up or revoked). */
export function gone(detail: string): AppError {
  return new AppError(410, "gone", "Gone", detail);
}

/** 422 `content_blocked`: the text contains a blocked word. */
export function contentBlocked(): AppError {
  return new AppError(
    422,
    "content_blocked",
    "Content blocked",
    "The message contains a word that is not allowed here",
  );
}

/** 429 `slow_mode`: slow mode allows one message per interval; wait `Retry-After` seconds. */
export function slowMode(retryAfterSeconds: number): AppError {
  return new AppError(429, "slow_mode", "Slow mode", "Slow mode is on: wait before sending again", {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
  });
}

/** 413 `payload_too_large`. */
export function payloadTooLarge(detail: string): AppError {
  return new AppError(413, "payload_too_large", "Payload too large", detail);
}

/** 415 `unsupported_media_type`. */
export function unsupportedMediaType(detail: string): AppError {
  return new AppError(415, "unsupported_media_type", "Unsupported media type", detail);
}

/** 429 `rate_limited` with the seconds to wait (sent as `Retry-After`). */
export function rateLimited(retryAfterSeconds: number, detail = "Too many requests"): AppError {
  return new AppError(429, "rate_limited", "Too many requests", detail, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
  });
}

/**
 * 503 `overloaded`: the server is past what it can commit in time and refuses new work at once
 * instead of queueing it; retry after `Retry-After` seconds (the same `clientMsgId` is safe).
 */
export function overloaded(retryAfterSeconds = 1): AppError {
  return new AppError(
    503,
    "overloaded",
    "Overloaded",
    "The server is busy: nothing was stored; retry shortly",
    { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) },
  );
}

/** 503 `unavailable`: a dependency is down and the request is safe to retry. */
export function unavailable(detail: string): AppError {
  return new AppError(503, "unavailable", "Service unavailable", detail);
}
