import type { DailyCounter } from "../domain/privacy.ts";
import type { ActivityLedger, DayCounts } from "./activity.ts";

/** The in-process {@link ActivityLedger}: exact, for one instance, gone on restart. */
export class MemoryActivityLedger implements ActivityLedger {
  readonly kind = "memory" as const;
  readonly exact = true;
  #active = new Map<string, Set<string>>();
  #counts = new Map<string, DayCounts>();

  markActive(day: string, userIds: string[]): Promise<void> {
    let users = this.#active.get(day);
    if (!users) this.#active.set(day, users = new Set());
    for (const id of userIds) users.add(id);
    return Promise.resolve();
  }

  countActive(days: string[]): Promise<number> {
    const all = new Set<string>();
    for (const day of days) for (const id of this.#active.get(day) ?? []) all.add(id);
    return Promise.resolve(all.size);
  }

  addCounts(day: string, counts: DayCounts): Promise<void> {
    let current = this.#counts.get(day);
    for (const [metric, n] of Object.entries(counts) as Array<[DailyCounter, number]>) {
      if (!n) continue;
      if (!current) this.#counts.set(day, current = {});
      current[metric] = (current[metric] ?? 0) + n;
    }
    return Promise.resolve();
  }

  counts(days: string[]): Promise<Map<string, DayCounts>> {
    const out = new Map<string, DayCounts>();
    for (const day of days) {
      const c = this.#counts.get(day);
      if (c) out.set(day, { ...c });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
