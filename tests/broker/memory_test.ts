import { MemoryBroker } from "../../src/broker/memory.ts";
import { runBrokerContract } from "./broker_contract.ts";

runBrokerContract("memory", () => {
  const broker = new MemoryBroker(() => {});
  return Promise.resolve({ a: broker, b: broker, close: () => broker.close() });
});
