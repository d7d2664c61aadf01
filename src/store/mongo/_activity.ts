import type { DailyCounter } from "../../domain/privacy.ts";
import type { ActivityStore } from "../activity.ts";
import type { Mongo } from "./_db.ts";

async function markActive(m: Mongo, day: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await m.activityDays.bulkWrite(
    userIds.map((userId) => ({
      updateOne: {
        filter: { _id: `${day}:${userId}` },
        update: { $setOnInsert: { day, userId } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}

async function countActive(m: Mongo, days: string[]): Promise<number> {
  if (days.length === 0) return 0;
  const [r] = await m.activityDays.aggregate<{ n: number }>([
    { $match: { day: { $in: days } } },
    { $group: { _id: "$userId" } },
    { $count: "n" },
  ], { allowDiskUse: true }).toArray();
  return r?.n ?? 0;
}

async function addDailyCounts(
  m: Mongo,
  day: string,
  counts: Partial<Record<DailyCounter, number>>,
): Promise<void> {
  const entries = Object.entries(counts).filter(([, v]) => !!v) as Array<[DailyCounter, number]>;
  if (entries.length === 0) return;
  await m.dailyCounts.bulkWrite(
    entries.map(([metric, value]) => ({
      updateOne: {
        filter: { _id: `${day}|${metric}` },
        update: { $setOnInsert: { day, metric }, $inc: { value } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}

async function dailyCounts(
  m: Mongo,
  days: string[],
): Promise<Map<string, Partial<Record<DailyCounter, number>>>> {
  const out = new Map<string, Partial<Record<DailyCounter, number>>>();
  if (days.length === 0) return out;
  for (const d of await m.dailyCounts.find({ day: { $in: days } }).toArray()) {
    let counts = out.get(d.day);
    if (!counts) out.set(d.day, counts = {});
    counts[d.metric] = d.value;
  }
  return out;
}

/**
 * The MongoDB {@link ActivityStore}: one document per active user and day, one per day and counter
 * (upserts, so repeating is harmless).
 */
export class MongoActivity implements ActivityStore {
  constructor(private readonly m: Mongo) {}

  markActive(day: string, userIds: string[]) {
    return markActive(this.m, day, userIds);
  }
  countActive(days: string[]) {
    return countActive(this.m, days);
  }
  addDailyCounts(day: string, counts: Partial<Record<DailyCounter, number>>) {
    return addDailyCounts(this.m, day, counts);
  }
  dailyCounts(days: string[]) {
    return dailyCounts(this.m, days);
  }
}
