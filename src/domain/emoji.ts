import { graphemes } from "./text.ts";

const RGI = /^\p{RGI_Emoji}$/v;
// A lone pictograph with or without the emoji presentation selector (e.g. "❤" as well as "❤️").
const PICTOGRAPH = /^\p{Extended_Pictographic}\uFE0F?$/u;

/**
 * The canonical form of a single emoji: a lone pictograph gets the emoji presentation selector, so
 * "❤" and "❤️" are the same reaction. Other emoji are returned as they are.
 */
export function normalizeEmoji(value: string): string {
  return !RGI.test(value) && /^\p{Extended_Pictographic}$/u.test(value) &&
      RGI.test(value + "\uFE0F")
    ? value + "\uFE0F"
    : value;
}

/**
 * True when `value` is exactly one emoji grapheme: any RGI emoji (skin tones, ZWJ sequences such as
 * families, flags, keycaps, tags) or a single pictographic code point. Letters, digits alone, two
 * emoji, and the empty string are not.
 */
export function isSingleEmoji(value: string): boolean {
  if (value.length === 0 || value.length > 64) return false;
  const parts = graphemes(value);
  if (parts.length !== 1) return false;
  return RGI.test(value) || PICTOGRAPH.test(value);
}
