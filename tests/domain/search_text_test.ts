import assert from "node:assert/strict";
import {
  hasPhrase,
  highlights,
  indexedPrefix,
  MAX_QUERY_WORDS,
  normalize,
  parseQuery,
  words,
} from "../../src/domain/search_text.ts";

Deno.test("search text: case, accents and width do not matter", () => {
  assert.equal(normalize("Café"), "cafe");
  assert.equal(normalize("CAFÉ"), "cafe");
  assert.equal(normalize("Ｃａｆｅ"), "cafe", "full-width");
  assert.equal(normalize("ﬁne"), "fine", "ligature");
  assert.deepEqual(words("Crème brûlée, s'il vous plaît!"), [
    "creme",
    "brulee",
    "s",
    "il",
    "vous",
    "plait",
  ]);
});

Deno.test("search text: unspaced scripts become bigrams; mixed runs split at the script change", () => {
  assert.deepEqual(words("東京都"), ["東京", "京都"]);
  assert.deepEqual(words("東"), ["東"]);
  assert.deepEqual(words("iPhone发布会"), ["iphone", "发布", "布会"]);
  assert.deepEqual(words("สวัสดี"), words("สวัสดี"), "Thai is deterministic");
  assert.deepEqual(words("안녕 하세요"), ["안녕", "하세요"], "Hangul is spaced: words");
  assert.equal(words("a".repeat(100))[0].length, 48);
});

Deno.test("search query: words, quoted phrases and the last word as a prefix", () => {
  assert.deepEqual(parseQuery("hello wor"), { words: ["hello"], phrases: [], prefix: "wor" });
  assert.deepEqual(parseQuery("hello world "), {
    words: ["hello", "world"],
    phrases: [],
    prefix: null,
  });
  assert.deepEqual(parseQuery('"big cat" sat'), {
    words: ["big", "cat"],
    phrases: [["big", "cat"]],
    prefix: "sat",
  });
  assert.deepEqual(parseQuery('say "big cat"'), {
    words: ["say", "big", "cat"],
    phrases: [["big", "cat"]],
    prefix: null,
  });
  assert.deepEqual(parseQuery("+a -b* c:d (e)")!.words.sort(), ["a", "b", "c", "d", "e"]);
  assert.equal(parseQuery("   "), null);
  assert.equal(parseQuery('"" !!! ***'), null);
  assert.deepEqual(parseQuery('unclosed "quote here'), {
    words: ["unclosed", "quote"],
    phrases: [],
    prefix: "here",
  });
  assert.throws(() => parseQuery("w ".repeat(MAX_QUERY_WORDS + 1)), RangeError);
  assert.equal(parseQuery("cafe café")!.prefix, null, "a prefix that is also a word");
});

Deno.test("search text: phrases match adjacent words in order; highlights are offsets in the text", () => {
  const ws = words("The big cat sat");
  assert.ok(hasPhrase(ws, ["big", "cat"]));
  assert.ok(!hasPhrase(ws, ["cat", "big"]));
  assert.ok(!hasPhrase(ws, ["big", "sat"]));
  const text = "Le CAFÉ est prêt, café?";
  assert.deepEqual(highlights(text, ["cafe"], null), [[3, 7], [18, 22]]);
  assert.deepEqual(highlights("hello world", [], "wor"), [[6, 11]]);
});

Deno.test("search query: an unfinished word is looked up by its longest indexed prefix", () => {
  assert.equal(indexedPrefix("sta"), "sta");
  assert.equal(indexedPrefix("stat"), "sta");
  assert.equal(indexedPrefix("statu"), "statu");
  assert.equal(indexedPrefix("statues"), "statu");
  assert.equal(indexedPrefix("日本語です"), "日本語です", "by characters, not bytes");
});
