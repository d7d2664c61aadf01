import { MemoryRateLimiter } from "../../src/limits/memory.ts";
import { runRateLimitContract } from "./rate_limit_contract.ts";

runRateLimitContract("memory", () => {
  const limiter = new MemoryRateLimiter();
  return Promise.resolve({ limiter, close: () => limiter.close() });
});
