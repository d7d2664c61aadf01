import { type FieldProblem, validationFailed } from "./errors.ts";

/** How far ahead a time may be set (scheduled sends, poll closings): a year and a day. */
export const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;

/**
 * Checks a time a client sets for later (`sendAt`, `closesAt`): an ISO-8601 time, in the future, at
 * most {@link MAX_AHEAD_MS} ahead. Returns it normalised (UTC, milliseconds), or the problem on
 * `field`.
 */
export function checkFutureTime(
  raw: string,
  field: string,
  now = Date.now(),
): { ok: true; at: string } | { ok: false; problem: FieldProblem } {
  const at = Date.parse(raw);
  const fail = (message: string) => ({ ok: false as const, problem: { path: field, message } });
  if (!/^\d{4}-\d\d-\d\dT/.test(raw) || !Number.isFinite(at)) {
    return fail("must be an ISO-8601 time");
  }
  if (at <= now) return fail("must be in the future");
  if (at > now + MAX_AHEAD_MS) return fail("at most a year ahead");
  return { ok: true, at: new Date(at).toISOString() };
}

/** {@link checkFutureTime}, throwing 400 `validation_failed` on `field` when the time is refused. */
export function futureTime(raw: string, field: string): string {
  const r = checkFutureTime(raw, field);
  if (!r.ok) throw validationFailed([r.problem]);
  return r.at;
}
