import type { DailyCounter } from "../domain/privacy.ts";
import type { RedisClient } from "../redis/client.ts";
import type { ActivityLedger, DayCounts } from "./activity.ts";

/** How long a day's keys are kept: a little over a year, so a year can be reported on. */
const KEEP_SECONDS = 400 * 86_400;
const CHUNK = 1000;

/**
 * The Redis {@link ActivityLedger}, shared by every instance: per day a HyperLogLog of active user ids
 * (`PFADD`; DAU, WAU and MAU are `PFCOUNT` over 1, 7 or 30 day keys, so estimates within about 0.8%
 * in a few kilobytes per day however many users there are) and a hash of counters (`HINCRBY`). Every
 * key expires about 400 days after its day's last write. Multi-key `PFCOUNT` needs its keys in one
 * slot: a single Redis (or primary), not Redis Cluster, as for presence.
 */
export class RedisActivityLedger implements ActivityLedger {
  readonly kind = "redis" as const;
  readonly exact = false;

  constructor(private readonly client: RedisClient, private readonly prefix: string) {}

  #users(day: string): string {
    return `${this.prefix}activity:users:${day}`;
  }

  #counters(day: string): string {
    return `${this.prefix}activity:counts:${day}`;
  }

  async markActive(day: string, userIds: string[]): Promise<void> {
    const key = this.#users(day);
    for (let i = 0; i < userIds.length; i += CHUNK) {
      await this.client.multi()
        .pfAdd(key, userIds.slice(i, i + CHUNK))
        .expire(key, KEEP_SECONDS)
        .exec();
    }
  }

  async countActive(days: string[]): Promise<number> {
    if (days.length === 0) return 0;
    return Number(await this.client.pfCount(days.map((d) => this.#users(d))));
  }

  async addCounts(day: string, counts: DayCounts): Promise<void> {
    const entries = Object.entries(counts).filter(([, n]) => !!n) as Array<[DailyCounter, number]>;
    if (entries.length === 0) return;
    const key = this.#counters(day);
    const tx = this.client.multi();
    for (const [metric, n] of entries) tx.hIncrBy(key, metric, n);
    await tx.expire(key, KEEP_SECONDS).exec();
  }

  async counts(days: string[]): Promise<Map<string, DayCounts>> {
    const out = new Map<string, DayCounts>();
    const replies = await Promise.all(days.map((d) => this.client.hGetAll(this.#counters(d))));
    days.forEach((day, i) => {
      const fields = Object.entries(replies[i] as Record<string, string>);
      if (fields.length === 0) return;
      out.set(day, Object.fromEntries(fields.map(([k, v]) => [k, Number(v)])) as DayCounts);
    });
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
