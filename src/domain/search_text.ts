/**
 * What search treats as words. Text is normalised — compatibility decomposition (NFKD: full-width
 * forms become ASCII, ligatures split), combining marks removed (accents), recomposed (NFC), lower
 * case — then cut into
 * words of letters and digits. Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao,
 * Khmer, Myanmar) have no word boundaries to find, so each run of them becomes its overlapping
 * character bigrams (a lone character stays a unigram): "東京都" → "東京", "京都". A query is cut the
 * same way, so a two-character query finds every text containing those two characters in a row,
 * whatever a dictionary would call the words. The cost: more postings for such text, and matches
 * that cross a word boundary the writer intended.
 */

/** Longest word kept (longer ones are cut: nobody searches for the tail of a 200-letter word). */
export const MAX_WORD = 48;
/**
 * The unfinished last word of a query matches as a prefix once it has this many letters (shorter, it
 * is a whole word).
 */
export const PREFIX_LENGTH = 3;
/**
 * The prefix lengths the index keeps a token for (each word's first 3 and first 5 letters): a query
 * prefix uses the longest that fits it, and what is longer is checked on the decrypted text.
 */
export const PREFIX_LENGTHS = [3, 5] as const;

/** The indexed prefix of a query's unfinished last word (at least {@link PREFIX_LENGTH} letters). */
export function indexedPrefix(prefix: string): string {
  const chars = [...prefix];
  const n = PREFIX_LENGTHS.findLast((l) => l <= chars.length) ?? PREFIX_LENGTH;
  return chars.slice(0, n).join("");
}

const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD = /[\p{L}\p{N}]+/gu;

/** Case-, accent- and width-insensitive form of `text`. */
export function normalize(text: string): string {
  // NFC after the marks are gone puts Hangul syllables back together (NFKD splits them in jamo).
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").normalize("NFC").toLowerCase();
}

/** The words of `text` in order (normalised; unspaced scripts as bigrams). */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const [run] of normalize(text).matchAll(WORD)) {
    let latin = "";
    let unspaced = "";
    const flushLatin = () => {
      if (latin) out.push([...latin].slice(0, MAX_WORD).join(""));
      latin = "";
    };
    const flushUnspaced = () => {
      const chars = [...unspaced];
      if (chars.length === 1) out.push(chars[0]);
      for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
      unspaced = "";
    };
    for (const ch of run) {
      if (UNSPACED.test(ch)) {
        flushLatin();
        unspaced += ch;
      } else {
        flushUnspaced();
        latin += ch;
      }
    }
    flushLatin();
    flushUnspaced();
  }
  return out;
}

/** A parsed query: words every result must hold, phrases it must hold in order, a last prefix. */
export interface SearchQuery {
  /** Every word of the query (phrases included), deduplicated. */
  words: string[];
  /** Quoted phrases of two words or more, each as its words in order. */
  phrases: string[][];
  /** The last word when it is unfinished (no space or quote after it): matched as a prefix. */
  prefix: string | null;
}

/** At most this many words in a query; more is a 400. */
export const MAX_QUERY_WORDS = 32;

/**
 * Parses `q`: `"quoted phrases"` and bare words; anything else (operators, punctuation) only
 * separates words. Returns null when `q` has no word at all. Throws a RangeError with a message for
 * users when it has more than {@link MAX_QUERY_WORDS} words.
 */
export function parseQuery(q: string): SearchQuery | null {
  const phrases: string[][] = [];
  const all: string[] = [];
  let prefix: string | null = null;
  const parts = q.split('"');
  parts.forEach((part, i) => {
    const quoted = i % 2 === 1 && i < parts.length - 1;
    const ws = words(part);
    if (quoted) {
      if (ws.length > 1) phrases.push(ws);
      all.push(...ws);
      return;
    }
    all.push(...ws);
    const last = i === parts.length - 1;
    // A bare last word with nothing after it is still being typed.
    if (last && ws.length && /[\p{L}\p{N}]$/u.test(part)) prefix = ws.at(-1)!;
  });
  if (all.length === 0) return null;
  if (all.length > MAX_QUERY_WORDS) {
    throw new RangeError(`A query may have at most ${MAX_QUERY_WORDS} words`);
  }
  const unique = [...new Set(all)];
  // A prefix that is also a whole word elsewhere in the query is simply a word.
  if (prefix !== null && all.filter((w) => w === prefix).length > 1) prefix = null;
  return {
    words: prefix === null ? unique : unique.filter((w) => w !== prefix),
    phrases,
    prefix,
  };
}

/** Whether `text` holds `phrase` (normalised words, adjacent, in order). */
export function hasPhrase(textWords: string[], phrase: string[]): boolean {
  outer: for (let i = 0; i + phrase.length <= textWords.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (textWords[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Where the query's words occur in `text`, as [start, end) UTF-16 offsets into the original text,
 * merged and in order: what a client highlights.
 */
export function highlights(text: string, terms: string[], prefix: string | null): number[][] {
  const out: number[][] = [];
  const wanted = new Set(terms);
  // Match on the original text word by word, comparing normalised forms (offsets stay the user's).
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    const ws = words(m[0]);
    const hit = ws.some((w) => wanted.has(w)) ||
      (prefix !== null && ws.some((w) => w.startsWith(prefix))) ||
      // Unspaced scripts: a bigram of the query inside a longer run.
      [...wanted].some((w) => ws.length > 1 && ws.includes(w));
    if (hit) out.push([m.index!, m.index! + m[0].length]);
  }
  return out;
}
