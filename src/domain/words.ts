import { invalidField } from "./errors.ts";
import { BLOCKED_WORDS } from "./types.ts";

/**
 * Text folding and whole-word matching for blocked words and group discovery: case- and
 * accent-insensitive ("Ça" matches "ca"), compatibility forms unified ("ｆｕｌｌ" matches "full").
 */

/** Folds text for matching: compatibility-normalized, accents and other marks removed, lower case. */
export function foldText(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().normalize("NFC");
}

/** The words of `text` after folding: runs of letters and digits. */
export function foldedWords(text: string): string[] {
  return foldText(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** A blocked-word list prepared for matching: single words in a set, phrases as word sequences. */
interface CompiledList {
  words: Set<string>;
  phrases: Array<{ entry: string; words: string[] }>;
}

const compiled = new Map<string, CompiledList>();
const COMPILED_MAX = 256;

function compile(list: readonly string[]): CompiledList {
  const key = list.join("\u0000");
  let c = compiled.get(key);
  if (c) return c;
  c = { words: new Set(), phrases: [] };
  for (const entry of list) {
    const words = foldedWords(entry);
    if (words.length === 1) c.words.add(words[0]);
    else if (words.length > 1) c.phrases.push({ entry, words });
  }
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, c);
  return c;
}

/**
 * The first entry of `lists` that `texts` contain as whole words (a phrase as consecutive words),
 * or null. "ass" does not match "class"; "bad word" matches "a BAD, word".
 *
 * @example
 * findBlocked(["Crème brûlée!"], [["creme"]]) // "creme"
 */
export function findBlocked(
  texts: readonly string[],
  lists: ReadonlyArray<readonly string[]>,
): string | null {
  const active = lists.filter((l) => l.length > 0).map(compile);
  if (active.length === 0) return null;
  for (const text of texts) {
    const words = foldedWords(text);
    for (const list of active) {
      for (const w of words) if (list.words.has(w)) return w;
      for (const p of list.phrases) {
        for (let i = 0; i + p.words.length <= words.length; i++) {
          if (p.words.every((w, j) => words[i + j] === w)) return p.entry;
        }
      }
    }
  }
  return null;
}

/**
 * Blocked words as stored: trimmed, distinct (after folding), each 1–64 characters holding at least
 * one letter or digit, at most 500. 400 on `field` otherwise.
 */
export function checkBlockedWords(words: string[], field: string): string[] {
  if (words.length > BLOCKED_WORDS.max) {
    throw invalidField(field, `at most ${BLOCKED_WORDS.max} words`);
  }
  const out = new Map<string, string>();
  for (const raw of words) {
    const word = raw.trim();
    if (word.length === 0 || word.length > BLOCKED_WORDS.maxLength) {
      throw invalidField(field, `each word must be 1 to ${BLOCKED_WORDS.maxLength} characters`);
    }
    const key = foldedWords(word).join(" ");
    if (key === "") throw invalidField(field, `"${word}" has no letters or digits`);
    if (!out.has(key)) out.set(key, word);
  }
  return [...out.values()];
}
