import assert from "node:assert/strict";
import fc from "fast-check";
import { isSingleEmoji } from "../../src/domain/emoji.ts";
import { graphemes } from "../../src/domain/text.ts";

/** RGI emoji of every shape a reaction picker offers. */
const RGI = [
  // single code points, with and without a presentation selector
  "👍",
  "😀",
  "🎉",
  "🔥",
  "🦄",
  "🫠",
  "❤️",
  "☺️",
  "✔️",
  "©️",
  // skin tones
  "👍🏻",
  "👍🏽",
  "👍🏿",
  "👋🏼",
  "🧑🏾",
  // ZWJ sequences
  "👨‍👩‍👧‍👦",
  "👩‍❤️‍💋‍👨",
  "🧑🏽‍🚀",
  "👩🏿‍💻",
  "🏳️‍🌈",
  "🏳️‍⚧️",
  "❤️‍🔥",
  "🐻‍❄️",
  "👁️‍🗨️",
  "🫱🏼‍🫲🏿",
  "🧑‍🤝‍🧑",
  // flags (regional indicator pairs)
  "🇫🇷",
  "🇯🇵",
  "🇺🇳",
  "🇪🇺",
  // keycaps
  "1️⃣",
  "#️⃣",
  "*️⃣",
  "🔟",
  // tag sequences
  "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
  "🏴󠁧󠁢󠁥󠁮󠁧󠁿",
  "🏴󠁧󠁢󠁷󠁬󠁳󠁿",
];

Deno.test("isSingleEmoji() accepts every RGI emoji of the list", () => {
  assert.ok(RGI.length >= 30);
  for (const emoji of RGI) {
    assert.equal(graphemes(emoji).length, 1, `${emoji} is one grapheme`);
    assert.ok(isSingleEmoji(emoji), `accepts ${emoji}`);
  }
});

Deno.test("isSingleEmoji() rejects letters, digits, blanks, joiners and pairs", () => {
  for (
    const value of [
      "",
      " ",
      "a",
      "ab",
      "1",
      "#",
      "é",
      "\u200d",
      "\ufe0f",
      "👍👍",
      "👍 ",
      " 👍",
      "🇫🇷🇩🇪",
      "1️⃣2️⃣",
      "\ud83d", // half of an emoji
      "👍🏽🏽", // one grapheme, but not an emoji
      "a\u20e3", // a keycap on a letter
    ]
  ) {
    assert.equal(isSingleEmoji(value), false, JSON.stringify(value));
  }
});

Deno.test("isSingleEmoji() rejects any string that is not a single grapheme", () => {
  const notOne = (s: string) => graphemes(s).length !== 1;
  for (const unit of ["grapheme", "grapheme-composite", "binary", "binary-ascii"] as const) {
    fc.assert(fc.property(fc.string({ unit }).filter(notOne), (s) => !isSingleEmoji(s)));
  }
  fc.assert(fc.property(fc.string().filter(notOne), (s) => !isSingleEmoji(s)));
});

Deno.test("isSingleEmoji() rejects two emoji side by side and an emoji with text around it", () => {
  const emoji = fc.constantFrom(...RGI);
  fc.assert(fc.property(emoji, emoji, (a, b) => !isSingleEmoji(a + b)));
  fc.assert(
    fc.property(
      emoji,
      fc.string({ unit: "grapheme-ascii", minLength: 1 }),
      (e, text) => !isSingleEmoji(e + text) && !isSingleEmoji(text + e),
    ),
  );
});

Deno.test("isSingleEmoji() accepts only strings that are one grapheme", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: "grapheme", maxLength: 2 }), fc.constantFrom(...RGI)),
      (s) => !isSingleEmoji(s) || graphemes(s).length === 1,
    ),
  );
});
