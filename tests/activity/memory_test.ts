import { MemoryActivityLedger } from "../../src/activity/memory.ts";
import { runActivityContract } from "./activity_contract.ts";

runActivityContract("memory", () => {
  const ledger = new MemoryActivityLedger();
  return Promise.resolve({ ledger, close: () => ledger.close() });
});
