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

/** 503 `unavailable`: a dependency is down and the request is safe to retry. */
export function unavailable(detail: string): AppError {
  return new AppError(503, "unavailable", "Service unavailable", detail);
}
