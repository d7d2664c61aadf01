/** The `Deno.test` leak sanitizer switches, as a test definition or a shared suite takes them. */
export type Sanitizers = Pick<Deno.TestDefinition, "sanitizeOps" | "sanitizeResources">;

/**
 * Both leak sanitizers on: every async op a test starts has finished and every resource it opens
 * is closed when it ends. Since Deno 2.8 `Deno.test` leaves them off unless asked, so tests spread
 * this in (`Deno.test({ ...sanitized, … })`, `Deno.test(name, sanitized, fn)`).
 */
export const sanitized: Sanitizers = { sanitizeOps: true, sanitizeResources: true };
