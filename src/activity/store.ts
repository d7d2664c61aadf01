import type { EngagementStore } from "../store/privacy.ts";
import type { ActivityLedger, DayCounts } from "./activity.ts";

/**
 * The {@link ActivityLedger} on the store (SQLite or MongoDB): exact distinct counts, shared by every
 * instance on the same store. The embedded default.
 */
export class StoreActivityLedger implements ActivityLedger {
  readonly kind = "store" as const;
  readonly exact = true;

  constructor(private readonly store: EngagementStore) {}

  markActive(day: string, userIds: string[]): Promise<void> {
    return this.store.markActive(day, userIds);
  }
  countActive(days: string[]): Promise<number> {
    return this.store.countActive(days);
  }
  addCounts(day: string, counts: DayCounts): Promise<void> {
    return this.store.addDailyCounts(day, counts);
  }
  counts(days: string[]): Promise<Map<string, DayCounts>> {
    return this.store.dailyCounts(days);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
