import { MemoryPresence } from "../../src/presence/memory.ts";
import { runPresenceContract } from "./presence_contract.ts";

runPresenceContract("memory", () => {
  const registry = new MemoryPresence();
  return Promise.resolve({ registry, close: () => registry.close() });
}, false);
