/// <reference lib="deno.worker" />
// Runs argon2id off the main event loop. One request at a time per worker; the pool queues the rest.
import { argon2id, argon2Verify } from "hash-wasm";

interface HashRequest {
  op: "hash";
  password: string;
  params: { memoryKiB: number; iterations: number };
}
interface VerifyRequest {
  op: "verify";
  password: string;
  hash: string;
}

self.onmessage = async (e: MessageEvent<HashRequest | VerifyRequest>) => {
  const req = e.data;
  try {
    if (req.op === "hash") {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const result = await argon2id({
        password: req.password,
        salt,
        parallelism: 1,
        iterations: req.params.iterations,
        memorySize: req.params.memoryKiB,
        hashLength: 32,
        outputType: "encoded",
      });
      self.postMessage({ result });
    } else {
      const result = await argon2Verify({ password: req.password, hash: req.hash });
      self.postMessage({ result });
    }
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
