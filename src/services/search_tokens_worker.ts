/// <reference lib="deno.worker" />
// Computes the search index's keyed tokens off the main event loop (HMAC-SHA-256 per word is the
// bulk of indexing's CPU). Each job: the key and a batch of texts; the answer: per text, its tokens
// concatenated (16 bytes each), with their buffers transferred back.
import { createHMAC, createSHA256, type IHasher } from "hash-wasm";
import { textTokens } from "./search_tokens.ts";

interface TokenRequest {
  key: Uint8Array;
  texts: string[];
}

let current: { key: string; hmac: IHasher } | null = null;

self.onmessage = async (e: MessageEvent<TokenRequest>) => {
  try {
    const id = e.data.key.join(",");
    if (current?.key !== id) {
      current = { key: id, hmac: await createHMAC(createSHA256(), e.data.key) };
    }
    const result = e.data.texts.map((t) => textTokens(current!.hmac, t));
    self.postMessage({ result }, result.map((r) => r.buffer as ArrayBuffer));
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
