import type { IHasher } from "hash-wasm";
import { PREFIX_LENGTH, words } from "../domain/search_text.ts";
import { SEARCH_TOKEN_BYTES } from "../store/search.ts";

/** One keyed token: HMAC(key, domain ‖ 0 ‖ value), truncated. */
export function keyedToken(hmac: IHasher, domain: "w" | "p", value: string): Uint8Array {
  hmac.init();
  hmac.update(`${domain}\u0000${value}`);
  return (hmac.digest("binary") as Uint8Array).slice(0, SEARCH_TOKEN_BYTES);
}

/**
 * Every token of a text, concatenated: each distinct word (`w`), and the first
 * {@link PREFIX_LENGTH} letters of each word at least that long (`p`), each once.
 */
export function textTokens(hmac: IHasher, text: string): Uint8Array {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const w of new Set(words(text))) {
    out.push(keyedToken(hmac, "w", w));
    const chars = [...w];
    if (chars.length >= PREFIX_LENGTH) {
      const p = chars.slice(0, PREFIX_LENGTH).join("");
      if (!seen.has(p)) seen.add(p), out.push(keyedToken(hmac, "p", p));
    }
  }
  const all = new Uint8Array(out.length * SEARCH_TOKEN_BYTES);
  out.forEach((t, i) => all.set(t, i * SEARCH_TOKEN_BYTES));
  return all;
}

/** Splits concatenated tokens. */
export function splitTokens(all: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + SEARCH_TOKEN_BYTES <= all.length; i += SEARCH_TOKEN_BYTES) {
    out.push(all.subarray(i, i + SEARCH_TOKEN_BYTES));
  }
  return out;
}
