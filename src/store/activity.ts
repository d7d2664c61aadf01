import type { DailyCounter } from "../domain/privacy.ts";

/**
 * Exact engagement data for the embedded deployment: who was active on which UTC day, and daily
 * counters. Part of {@link import("./store.ts").Store}.
 */
export interface ActivityStore {
  /** Records each user as active on `day` (`YYYY-MM-DD`); repeating is harmless. */
  markActive(day: string, userIds: string[]): Promise<void>;
  /** Distinct users active on at least one of `days`. */
  countActive(days: string[]): Promise<number>;
  /** Adds to the day's counters. */
  addDailyCounts(day: string, counts: Partial<Record<DailyCounter, number>>): Promise<void>;
  /** The counters of each given day that has any (missing counters are absent). */
  dailyCounts(days: string[]): Promise<Map<string, Partial<Record<DailyCounter, number>>>>;
}
