import type { Store } from "../store/store.ts";
import type { ActivityLedger, DayCounts } from "./activity.ts";

/**
 * The {@link ActivityLedger} on the store (SQLite or MongoDB): exact distinct counts, shared by every
 * instance on the same store. The embedded default.
 */
export class StoreActivityLedger implements ActivityLedger {
  readonly kind = "store" as const;
  readonly exact = true;

  constructor(private readonly store: Pick<Store, "activity">) {}

  markActive(day: string, userIds: string[]): Promise<void> {
    return this.store.activity.markActive(day, userIds);
  }
  countActive(days: string[]): Promise<number> {
    return this.store.activity.countActive(days);
  }
  addCounts(day: string, counts: DayCounts): Promise<void> {
    return this.store.activity.addDailyCounts(day, counts);
  }
  counts(days: string[]): Promise<Map<string, DayCounts>> {
    return this.store.activity.dailyCounts(days);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
