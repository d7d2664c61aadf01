import { MemoryReadCache } from "../../src/cache/memory.ts";
import { runCacheContract } from "./cache_contract.ts";

runCacheContract("memory", () => {
  const cache = new MemoryReadCache();
  return Promise.resolve({ cache, close: () => cache.close() });
}, false);
