import assert from "node:assert/strict";
import type { Reply } from "./server.ts";

/** Asserts a 429 answer carries a numeric `Retry-After` of at least one second. */
export function assertRetryAfter(res: Reply): void {
  const retryAfter = res.headers.get("retry-after");
  assert.match(retryAfter ?? "", /^\d+$/, "429 carries a numeric Retry-After");
  assert.ok(Number(retryAfter) >= 1);
}

/** Asserts a register, login or refresh body is a token grant: exactly the pair, expiry and user. */
export function assertGrantShape(body: any): void {
  assert.deepEqual(Object.keys(body).sort(), ["accessToken", "expiresIn", "refreshToken", "user"]);
  assert.equal(typeof body.accessToken, "string");
  assert.equal(typeof body.refreshToken, "string");
  assert.notEqual(body.accessToken, body.refreshToken);
  assert.ok(Number.isInteger(body.expiresIn) && body.expiresIn > 0);
  assert.equal(typeof body.user.id, "string");
}
