import type { FieldProblem } from "./errors.ts";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const PRINTABLE_ASCII = /^[\x20-\x7e\n\t]*$/;

/** The number of user-perceived characters (grapheme clusters) in `text`: 👍🏽 counts 1. */
export function graphemeCount(text: string): number {
  // Printable ASCII is one grapheme per character (CR LF, the only multi-character cluster in
  // ASCII, is rejected anyway), and it is what most messages are.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/** The grapheme clusters of `text`. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Byte length of `text` in UTF-8. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const CONTROL = /\p{Cc}/u;
// Cc is U+0000-U+001F and U+007F-U+009F; newline (U+000A) and tab (U+0009) may stay in bodies.
// Matching control characters is the point here.
// deno-lint-ignore no-control-regex
const CONTROL_EXCEPT_NEWLINE_TAB = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;

/** Rules for one free-text field. */
export interface TextRule {
  field: string;
  minGraphemes: number;
  maxGraphemes: number;
  maxBytes?: number;
  /** Newline and tab allowed (message bodies); otherwise the text is a single line. */
  multiline?: boolean;
}

/**
 * Normalises `raw` to NFC and checks it against `rule`: length in graphemes (and UTF-8 bytes), no
 * control characters (newline and tab only where multiline), no lone surrogates, not only whitespace.
 * Returns the normalised text, or the problems found.
 */
export function checkText(
  raw: string,
  rule: TextRule,
): { ok: true; text: string } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const fail = (message: string) => ({
    ok: false as const,
    problems: [{ path: rule.field, message }],
  });
  if (!raw.isWellFormed()) return fail("contains invalid Unicode (a lone surrogate)");
  const text = raw.normalize("NFC");
  const control = rule.multiline ? CONTROL_EXCEPT_NEWLINE_TAB : CONTROL;
  if (control.test(text)) {
    return fail(
      rule.multiline
        ? "must not contain control characters other than newline and tab"
        : "must not contain control characters or line breaks",
    );
  }
  const count = graphemeCount(text);
  if (count < rule.minGraphemes || (rule.minGraphemes > 0 && text.trim() === "")) {
    return fail(
      rule.minGraphemes === 1
        ? "must not be empty"
        : `must be at least ${rule.minGraphemes} characters`,
    );
  }
  if (count > rule.maxGraphemes) {
    problems.push({ path: rule.field, message: `must be at most ${rule.maxGraphemes} characters` });
  }
  if (rule.maxBytes !== undefined && utf8Length(text) > rule.maxBytes) {
    problems.push({ path: rule.field, message: `must be at most ${rule.maxBytes} bytes of UTF-8` });
  }
  return problems.length ? { ok: false, problems } : { ok: true, text };
}

/** A message body: 1–4,000 graphemes, ≤ 32 KiB of UTF-8, newline and tab allowed. */
export const MESSAGE_TEXT: Omit<TextRule, "field"> = {
  minGraphemes: 1,
  maxGraphemes: 4000,
  maxBytes: 32 * 1024,
  multiline: true,
};
