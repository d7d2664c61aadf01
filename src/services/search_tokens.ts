import { createHMAC, createSHA256, type IHasher } from "hash-wasm";
import { indexedPrefix, PREFIX_LENGTHS, words } from "../domain/search_text.ts";
import { SEARCH_TOKEN_BYTES } from "../store/search.ts";
import { WorkerPool } from "../worker_pool.ts";

/** One keyed token: HMAC(key, domain ‖ 0 ‖ value), truncated. */
export function keyedToken(hmac: IHasher, domain: "w" | "p", value: string): Uint8Array {
  hmac.init();
  hmac.update(`${domain}\u0000${value}`);
  return (hmac.digest("binary") as Uint8Array).slice(0, SEARCH_TOKEN_BYTES);
}

/**
 * Every token of a text, concatenated: each distinct word (`w`), and the first 3 and first 5
 * letters ({@link PREFIX_LENGTHS}) of each word at least that long (`p`), each once.
 */
export function textTokens(hmac: IHasher, text: string): Uint8Array {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const w of new Set(words(text))) {
    out.push(keyedToken(hmac, "w", w));
    const chars = [...w];
    for (const n of PREFIX_LENGTHS) {
      if (chars.length < n) break;
      const p = chars.slice(0, n).join("");
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

/**
 * The keyed tokens of words: HMAC-SHA-256 under a key derived (HKDF) from the active encryption key,
 * truncated to 16 bytes, in two domains — a whole word (`w`) and a word's first three letters (`p`,
 * for the unfinished last word of a query). The index holds only these: someone with the database
 * but not the key sees which messages share a token and how often a token occurs, never the word.
 * A query's few tokens are made here; a batch of texts to index is tokenised in a worker, off the
 * event loop (one HMAC per word is the bulk of indexing's CPU).
 */
export class SearchTokens {
  private constructor(
    private readonly hmac: IHasher,
    private readonly key: Uint8Array,
    readonly keyVersion: number,
    private readonly pool:
      | WorkerPool<
        { key: Uint8Array; texts: string[] },
        Uint8Array[]
      >
      | null,
  ) {}

  /**
   * Derives the key from the active encryption key (`ENCRYPTION_ACTIVE_KEY_ID`); `worker: false`
   * tokenises in-process (tools).
   */
  static async create(
    encryption: { keys: Map<string, Uint8Array>; activeKeyId: string },
    options: { worker?: boolean } = {},
  ) {
    const raw = encryption.keys.get(encryption.activeKeyId)!;
    const base = await crypto.subtle.importKey("raw", raw as BufferSource, "HKDF", false, [
      "deriveBits",
    ]);
    const key = new Uint8Array(
      await crypto.subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new TextEncoder().encode("parley:search"),
          info: new TextEncoder().encode(`parley:search-index:v1:${encryption.activeKeyId}`),
        },
        base,
        256,
      ),
    );
    // A small number naming the key, so messages indexed under another one can be found.
    const version = new DataView(
      await crypto.subtle.digest(
        "SHA-256",
        // The token format is part of it: prefixes of 3 and 5 letters (v2).
        new TextEncoder().encode(`search:v2:${encryption.activeKeyId}`),
      ),
    ).getUint32(0) & 0x7fffffff;
    const pool = options.worker === false
      ? null
      : new WorkerPool<{ key: Uint8Array; texts: string[] }, Uint8Array[]>(
        new URL("./search_tokens_worker.ts", import.meta.url),
        1,
      );
    return new SearchTokens(await createHMAC(createSHA256(), key), key, version, pool);
  }

  word(w: string): Uint8Array {
    return keyedToken(this.hmac, "w", w);
  }

  /** The token that finds words starting with `prefix` (its longest indexed prefix). */
  prefix(prefix: string): Uint8Array {
    return keyedToken(this.hmac, "p", indexedPrefix(prefix));
  }

  /** Every token of a text (see `textTokens`). */
  ofText(text: string): Uint8Array[] {
    return splitTokens(textTokens(this.hmac, text));
  }

  /** The tokens of each text, in order (in the worker when there is one). */
  async ofTexts(texts: string[]): Promise<Uint8Array[][]> {
    if (texts.length === 0) return [];
    if (!this.pool) return texts.map((t) => this.ofText(t));
    const all = await this.pool.run({ key: this.key, texts }, { timeoutMs: 30_000 });
    return all.map(splitTokens);
  }

  close(): void {
    this.pool?.close();
  }
}
