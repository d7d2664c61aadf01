import type { ActivityLedger, DayCounts } from "../activity/activity.ts";
import { invalidField } from "../domain/errors.ts";
import type { MediaKind } from "../domain/media.ts";
import { type DailyCounter, daysBetween, daysEnding, parseDay, utcDay } from "../domain/privacy.ts";
import type { Logger } from "../observability/logger.ts";
import type { Counter, Gauge, MetricsRegistry } from "../observability/metrics.ts";

/** What services report as it happens (the activity service counts it). */
export interface EngagementRecorder {
  /** `userId` made an authenticated request or sent a socket frame at `at`. */
  seen(userId: string, at?: Date): void;
  /** A message was sent, carrying media of these kinds. */
  messageSent(mediaKinds: MediaKind[], at?: Date): void;
  /** An account was created. */
  registered(at?: Date): void;
}

/** One day of engagement as admins see it. */
export interface DayEngagement {
  date: string;
  /** Distinct active users that day, over the 7 and over the 30 days ending that day. */
  activeUsers: { daily: number; weekly: number; monthly: number };
  messagesSent: number;
  mediaShared: Record<MediaKind, number>;
  registrations: number;
}

/** Engagement over a range of days. */
export interface EngagementReport {
  from: string;
  to: string;
  /** False when active-user figures are estimates (HyperLogLog in Redis). */
  exact: boolean;
  days: DayEngagement[];
}

const KINDS: MediaKind[] = ["image", "video", "audio", "document"];
const MAX_DAYS = 366;
const GAUGE_EVERY_MS = 60_000;

/**
 * Engagement: records who is active each UTC day and counts messages, shared media and registrations
 * per day in the {@link ActivityLedger}, and reports them per day with DAU/WAU/MAU. Recording costs
 * no I/O on the request path: each user is noted once per day per instance and everything is written
 * in batches every few seconds (and on close). Also exports Prometheus counters and active-user
 * gauges.
 */
export class ActivityService implements EngagementRecorder {
  #today = { day: "", users: new Set<string>() };
  #active = new Map<string, Set<string>>();
  #counts = new Map<string, DayCounts>();
  #flushing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #gaugesAt = 0;
  readonly #messages: Counter;
  readonly #media: Counter;
  readonly #registrations: Counter;
  readonly #activeGauge: Gauge;

  constructor(
    private readonly deps: {
      ledger: ActivityLedger;
      metrics: MetricsRegistry;
      logger: Logger;
      flushMs?: number;
    },
  ) {
    this.#messages = deps.metrics.counter("parley_messages_sent_total", "Messages sent");
    this.#media = deps.metrics.counter(
      "parley_media_shared_total",
      "Media attached to sent messages, by kind",
    );
    this.#registrations = deps.metrics.counter(
      "parley_registrations_total",
      "Accounts created",
    );
    this.#activeGauge = deps.metrics.gauge(
      "parley_active_users",
      "Distinct active users over the day, week (7 days) and month (30 days) ending today (UTC)",
    );
  }

  /** Starts writing batches every few seconds. */
  start(): void {
    const timer = setInterval(() => void this.flush(), this.deps.flushMs ?? 5000);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  seen(userId: string, at = new Date()): void {
    const day = utcDay(at);
    if (this.#today.day !== day) this.#today = { day, users: new Set() };
    if (this.#today.users.has(userId)) return;
    this.#today.users.add(userId);
    let users = this.#active.get(day);
    if (!users) this.#active.set(day, users = new Set());
    users.add(userId);
  }

  messageSent(mediaKinds: MediaKind[], at = new Date()): void {
    const counts: DayCounts = { messages: 1 };
    for (const kind of mediaKinds) {
      const metric: DailyCounter = `media.${kind}`;
      counts[metric] = (counts[metric] ?? 0) + 1;
      this.#media.inc({ kind });
    }
    this.#messages.inc();
    this.#add(utcDay(at), counts);
  }

  registered(at = new Date()): void {
    this.#registrations.inc();
    this.#add(utcDay(at), { registrations: 1 });
  }

  #add(day: string, counts: DayCounts): void {
    let current = this.#counts.get(day);
    if (!current) this.#counts.set(day, current = {});
    for (const [metric, n] of Object.entries(counts) as Array<[DailyCounter, number]>) {
      current[metric] = (current[metric] ?? 0) + n;
    }
  }

  /**
   * Writes what was recorded so far to the ledger (one write per day touched). Flushes run one at a
   * time; what a failed one held is kept for the next.
   */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const active = this.#active;
    const counts = this.#counts;
    this.#active = new Map();
    this.#counts = new Map();
    try {
      for (const [day, users] of active) await this.deps.ledger.markActive(day, [...users]);
      active.clear();
      for (const [day, c] of counts) await this.deps.ledger.addCounts(day, c);
      counts.clear();
      if (Date.now() - this.#gaugesAt > GAUGE_EVERY_MS) await this.#refreshGauges(new Date());
    } catch (err) {
      this.deps.logger.warn("activity flush failed; kept for the next one", {
        "error.message": err instanceof Error ? err.message : String(err),
      });
      for (const [day, users] of active) for (const u of users) this.#keepActive(day, u);
      for (const [day, c] of counts) this.#add(day, c);
    }
  }

  #keepActive(day: string, userId: string): void {
    let users = this.#active.get(day);
    if (!users) this.#active.set(day, users = new Set());
    users.add(userId);
  }

  async #refreshGauges(now: Date): Promise<void> {
    this.#gaugesAt = now.getTime();
    const today = utcDay(now);
    const [day, week, month] = await Promise.all(
      [1, 7, 30].map((n) => this.deps.ledger.countActive(daysEnding(today, n))),
    );
    this.#activeGauge.set(day, { window: "day" });
    this.#activeGauge.set(week, { window: "week" });
    this.#activeGauge.set(month, { window: "month" });
  }

  /**
   * Engagement for each day from `from` to `to` (`YYYY-MM-DD`, UTC, inclusive, at most 366 days).
   * What this instance recorded is written first, so the figures include it.
   */
  async report(from: string, to: string): Promise<EngagementReport> {
    const start = parseDay(from, "from");
    const end = parseDay(to, "to");
    if (end < start) throw invalidField("to", "must not be before from");
    const days = daysBetween(start, end);
    if (days.length > MAX_DAYS) throw invalidField("to", `at most ${MAX_DAYS} days at once`);
    await this.flush();
    const { ledger } = this.deps;
    const counts = await ledger.counts(days);
    const out = await Promise.all(days.map(async (date): Promise<DayEngagement> => {
      const [daily, weekly, monthly] = await Promise.all(
        [1, 7, 30].map((n) => ledger.countActive(daysEnding(date, n))),
      );
      const c = counts.get(date) ?? {};
      return {
        date,
        activeUsers: { daily, weekly, monthly },
        messagesSent: c.messages ?? 0,
        mediaShared: Object.fromEntries(KINDS.map((k) => [k, c[`media.${k}`] ?? 0])) as Record<
          MediaKind,
          number
        >,
        registrations: c.registrations ?? 0,
      };
    }));
    await this.#refreshGauges(new Date());
    return { from, to, exact: ledger.exact, days: out };
  }
}
