import type { Store } from "../../src/store/store.ts";
import { accountContract } from "./_accounts_contract.ts";
import { conversationContract } from "./_conversations_contract.ts";
import { mediaContract } from "./_media_contract.ts";
import { lifecycleContract } from "./_lifecycle_contract.ts";
import { messageContract } from "./_messages_contract.ts";
import { privacyContract } from "./_privacy_contract.ts";
import { jobContract } from "./_jobs_contract.ts";
import { threadContract } from "./_threads_contract.ts";
import { moderationContract } from "./_moderation_contract.ts";
import { pushContract } from "./_push_contract.ts";
import { archiveContract } from "./_archive_contract.ts";
import { searchContract, searchRetentionContract } from "./_search_contract.ts";
import { sanitized, type Sanitizers } from "../support/sanitizers.ts";

/** Makes a fresh, empty store for one test and disposes of it afterwards. */
export type StoreFactory = () => Promise<{ store: Store; close: () => Promise<void> }>;

/** Registers one contract test against a fresh store. */
export type ContractTest = (title: string, fn: (store: Store) => Promise<void>) => void;

/**
 * The behaviour every {@link Store} adapter must have, as one suite: run it with the adapter's
 * factory (`tests/store/sqlite_test.ts`, `tests/store/mongo_test.ts`). The tests run sanitized
 * unless `sanitizers` turns that off.
 */
export function runStoreContract(
  name: string,
  factory: StoreFactory,
  sanitizers: Sanitizers = sanitized,
): void {
  const test: ContractTest = (title, fn) =>
    Deno.test({
      name: `${name} store: ${title}`,
      ...sanitizers,
      fn: async () => {
        const { store, close } = await factory();
        try {
          await fn(store);
        } finally {
          await close();
        }
      },
    });
  accountContract(test);
  conversationContract(test);
  messageContract(test);
  mediaContract(test);
  privacyContract(test);
  lifecycleContract(test);
  jobContract(test);
  threadContract(test);
  moderationContract(test);
  pushContract(test);
  searchContract(test);
  searchRetentionContract(test);
  archiveContract(test);
}
