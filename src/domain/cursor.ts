import { invalidField } from "./errors.ts";
import { decodeBase64, encodeBase64Url } from "./encoding.ts";

/** An opaque pagination cursor for `value` (clients must not parse it). */
export function encodeCursor(value: unknown): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
}

/**
 * The value inside a cursor made by {@link encodeCursor}, checked by `guard`; a malformed or
 * foreign cursor is a 400 on the `cursor` field.
 */
export function decodeCursor<T>(cursor: string, guard: (v: unknown) => v is T): T {
  try {
    const value = JSON.parse(new TextDecoder().decode(decodeBase64(cursor)));
    if (guard(value)) return value;
  } catch {
    // fall through
  }
  throw invalidField("cursor", "is not a valid cursor");
}

/** Guard for cursors that hold one string. */
export function isString(v: unknown): v is string {
  return typeof v === "string";
}
