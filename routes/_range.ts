/** What a `Range` header asks of a representation of `size` bytes. */
export type RangeRequest =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * Interprets a `Range` header (RFC 9110 §14) for a file of `size` bytes: one `bytes=` range
 * (`a-b`, `a-`, `-n`) becomes a partial answer; no header, another unit, or several ranges get the
 * whole file; a malformed or out-of-bounds byte range is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: "full" };
  if (m[1].includes(",")) return { kind: "full" };
  const r = /^(\d*)-(\d*)$/.exec(m[1].trim());
  if (!r || (r[1] === "" && r[2] === "") || size === 0) return { kind: "unsatisfiable" };
  if (r[1] === "") {
    const suffix = Number(r[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(r[1]);
  const end = r[2] === "" ? size - 1 : Math.min(Number(r[2]), size - 1);
  if (start >= size || start > end) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}
