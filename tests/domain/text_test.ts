import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkText,
  graphemeCount,
  graphemes,
  MESSAGE_TEXT,
  type TextRule,
  utf8Length,
} from "../../src/domain/text.ts";

const BODY: TextRule = { field: "text", ...MESSAGE_TEXT };
const LINE: TextRule = { field: "name", minGraphemes: 1, maxGraphemes: 64 };

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.nat(0xffff).map((c) => String.fromCharCode(c));
/** C0 controls, DEL and C1 controls except newline and tab. */
const forbiddenControl = fc.oneof(
  fc.integer({ min: 0x00, max: 0x1f }).filter((c) => c !== 0x0a && c !== 0x09),
  fc.integer({ min: 0x7f, max: 0x9f }),
).map((c) => String.fromCharCode(c));

Deno.test("graphemeCount() counts user-perceived characters, not code units", () => {
  assert.equal(graphemeCount(""), 0);
  assert.equal(graphemeCount("abc"), 3);
  assert.equal(graphemeCount("e\u0301"), 1);
  assert.equal(graphemeCount("👍🏽"), 1);
  assert.equal(graphemeCount("👨‍👩‍👧‍👦"), 1);
  assert.equal(graphemeCount("🇫🇷🇩🇪"), 2);
  assert.equal(graphemeCount("1️⃣"), 1);
  assert.equal(graphemeCount("🏴󠁧󠁢󠁳󠁣󠁴󠁿"), 1);
  assert.equal(graphemeCount("\r\n"), 1);
  assert.deepEqual(graphemes("a👍🏽b"), ["a", "👍🏽", "b"]);
});

Deno.test("graphemeCount() of N repeated 👍🏽 is N", () => {
  fc.assert(fc.property(fc.nat(5000), (n) => graphemeCount("👍🏽".repeat(n)) === n));
});

Deno.test("graphemes() splits a string into pieces that join back to it", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme-composite" }), (s) => {
      const parts = graphemes(s);
      return parts.join("") === s && parts.length === graphemeCount(s);
    }),
  );
});

Deno.test("utf8Length() equals the encoded length of any well-formed string", () => {
  const encoder = new TextEncoder();
  assert.equal(utf8Length("👍🏽"), 8);
  assert.equal(utf8Length("é"), 2);
  assert.equal(utf8Length("€"), 3);
  fc.assert(
    fc.property(
      fc.string({ unit: "binary" }),
      (s) => utf8Length(s) === encoder.encode(s).length,
    ),
  );
});

Deno.test("checkText() normalises to NFC and accepts newline and tab in bodies", () => {
  assert.deepEqual(checkText("caf" + "e\u0301", BODY), { ok: true, text: "caf\u00e9" });
  assert.deepEqual(checkText("a\nb\tc", BODY), { ok: true, text: "a\nb\tc" });
  assert.deepEqual(checkText("👍🏽".repeat(4000), BODY), { ok: true, text: "👍🏽".repeat(4000) });
});

Deno.test("checkText() rejects empty, blank, too long, too many bytes, controls and lone surrogates", () => {
  const rejected: Array<[string, TextRule]> = [
    ["", BODY],
    [" \n\t\u3000", BODY],
    ["👍🏽".repeat(4001), BODY],
    ["👨‍👩‍👧‍👦".repeat(1400), BODY],
    ["bell\u0007", BODY],
    ["cr\r", BODY],
    ["nul\u0000", BODY],
    ["lone \ud800", BODY],
    ["lone \udc00 low", BODY],
    ["two\nlines", LINE],
    ["tab\there", LINE],
    ["x".repeat(65), LINE],
  ];
  for (const [text, rule] of rejected) {
    const r = checkText(text, rule);
    assert.equal(r.ok, false, JSON.stringify(text).slice(0, 40));
    if (!r.ok) assert.ok(r.problems.every((p) => p.path === rule.field));
  }
});

Deno.test("checkText() never accepts a string containing a control character other than \\n and \\t", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary" }),
      forbiddenControl,
      fc.string({ unit: "binary" }),
      (before, control, after) => !checkText(before + control + after, BODY).ok,
    ),
  );
  fc.assert(
    fc.property(
      fc.string({ unit: codeUnit }),
      (s) => {
        const r = checkText(s, BODY);
        // deno-lint-ignore no-control-regex
        return !r.ok || !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(r.text);
      },
    ),
  );
});

Deno.test("checkText() output is well-formed NFC within the limits, and checking it again is a no-op", () => {
  fc.assert(
    fc.property(fc.string({ unit: codeUnit, maxLength: 300 }), (s) => {
      const r = checkText(s, BODY);
      if (!r.ok) return true;
      assert.ok(r.text.isWellFormed());
      assert.equal(r.text, r.text.normalize("NFC"));
      assert.ok(r.text.trim().length > 0);
      assert.ok(graphemeCount(r.text) <= 4000 && utf8Length(r.text) <= 32 * 1024);
      assert.deepEqual(checkText(r.text, BODY), r);
      return true;
    }),
  );
});

Deno.test("checkText() rejects every string with a lone surrogate", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme" }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      fc.string({ unit: "grapheme" }),
      (before, lone, after) => !checkText(`${before}${lone}x${after}`, BODY).ok,
    ),
  );
});
