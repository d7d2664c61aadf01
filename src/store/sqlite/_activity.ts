import type { DailyCounter } from "../../domain/privacy.ts";
import type { ActivityStore } from "../activity.ts";
import { type Db, num, placeholders, str } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";

export function markActive(db: Db, day: string, userIds: string[]): void {
  db.transaction(() => {
    for (const id of userIds) {
      db.run(
        "INSERT INTO activity_days (day, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        day,
        id,
      );
    }
  });
}

export function countActive(db: Db, days: string[]): number {
  if (days.length === 0) return 0;
  const r = db.get(
    `SELECT count(DISTINCT user_id) AS n FROM activity_days WHERE day IN (${
      placeholders(days.length)
    })`,
    ...days,
  );
  return r ? num(r.n) : 0;
}

export function addDailyCounts(
  db: Db,
  day: string,
  counts: Partial<Record<DailyCounter, number>>,
): void {
  db.transaction(() => {
    for (const [metric, value] of Object.entries(counts)) {
      if (!value) continue;
      db.run(
        `INSERT INTO daily_counts (day, metric, value) VALUES (?, ?, ?)
         ON CONFLICT (day, metric) DO UPDATE SET value = value + excluded.value`,
        day,
        metric,
        value,
      );
    }
  });
}

export function dailyCounts(
  db: Db,
  days: string[],
): Map<string, Partial<Record<DailyCounter, number>>> {
  const out = new Map<string, Partial<Record<DailyCounter, number>>>();
  if (days.length === 0) return out;
  for (
    const r of db.all(
      `SELECT day, metric, value FROM daily_counts WHERE day IN (${placeholders(days.length)})`,
      ...days,
    )
  ) {
    const day = str(r.day);
    let counts = out.get(day);
    if (!counts) out.set(day, counts = {});
    counts[str(r.metric) as DailyCounter] = num(r.value);
  }
  return out;
}

/** The activity writes, run on the writer thread (see `_writes.ts`). */
export const activityWrites = { markActive, addDailyCounts };

/** The SQLite {@link ActivityStore}. */
export function sqliteActivity(db: Db, writer: Writer): ActivityStore {
  return { ...bindReads(db, { countActive, dailyCounts }), ...bindWrites(writer, activityWrites) };
}
