/**
 * Polls `probe` until `ok` accepts its value and returns that value; throws naming `what`, with the
 * last value, after `timeoutMs`. For state that changes without an event to wait on (a status that
 * a background job moves, a dependency reconnecting on its own backoff).
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}; last: ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 50));
  }
}
