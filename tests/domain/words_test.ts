import assert from "node:assert/strict";
import { checkBlockedWords, findBlocked, foldText } from "../../src/domain/words.ts";
import { AppError } from "../../src/domain/errors.ts";

Deno.test("foldText: case, accents and compatibility forms fold together", () => {
  assert.equal(foldText("Crème Brûlée"), "creme brulee");
  assert.equal(foldText("ＦＵＬＬ"), "full");
  assert.equal(foldText("ÇA VA"), "ca va");
  assert.equal(foldText("straße"), "straße", "ß is a letter, not an accent");
});

Deno.test("findBlocked: whole words and phrases, never inside other words", () => {
  const list = [["ass", "bad word", "Crème"]];
  for (const text of ["what an ASS", "ass.", "a BAD, word!", "bad\nword", "crème", "CREME"]) {
    assert.notEqual(findBlocked([text], list), null, text);
  }
  for (const text of ["class", "assess", "bad words", "badword", "cremes", "word bad", ""]) {
    assert.equal(findBlocked([text], list), null, text);
  }
  assert.equal(findBlocked(["fine", "also ASS"], list), "ass", "any of several texts");
  assert.equal(findBlocked(["anything"], [[], []]), null, "empty lists");
  assert.equal(findBlocked(["spam"], [[], ["Späm"]]), "spam", "the second list");
});

Deno.test("checkBlockedWords: trimmed, distinct after folding, bounded", () => {
  assert.deepEqual(checkBlockedWords([" Crème ", "creme", "bad  word"], "w"), [
    "Crème",
    "bad  word",
  ]);
  for (const bad of [[""], ["!!!"], ["x".repeat(65)], Array(501).fill("a")]) {
    assert.throws(() => checkBlockedWords(bad, "w"), AppError);
  }
});
