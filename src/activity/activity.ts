import type { DailyCounter } from "../domain/privacy.ts";

/** Counters of one day; a counter never incremented is absent. */
export type DayCounts = Partial<Record<DailyCounter, number>>;

/**
 * Engagement data by UTC day (`YYYY-MM-DD`, always given by the caller, so tests script whole days):
 * which users were active, and daily counters (messages sent, media shared by kind, registrations).
 * Adapters: in-process (`memory.ts`), the store (`store.ts`, exact), Redis (`redis.ts`, HyperLogLog
 * estimates shared by every instance). Every adapter passes `tests/activity/activity_contract.ts`.
 */
export interface ActivityLedger {
  readonly kind: "memory" | "store" | "redis";
  /** Whether {@link countActive} is exact; false for estimates (HyperLogLog: about 0.8% error). */
  readonly exact: boolean;
  /** Records each user as active on `day`; repeating is harmless. */
  markActive(day: string, userIds: string[]): Promise<void>;
  /** Distinct users active on at least one of `days` (DAU: one day; WAU: 7; MAU: 30). */
  countActive(days: string[]): Promise<number>;
  /** Adds to the day's counters. */
  addCounts(day: string, counts: DayCounts): Promise<void>;
  /** The counters of each given day that has any. */
  counts(days: string[]): Promise<Map<string, DayCounts>>;
  close(): Promise<void>;
}
