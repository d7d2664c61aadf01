import type { Logger } from "../observability/logger.ts";
import type { Counter, MetricsRegistry } from "../observability/metrics.ts";
import type { Store } from "../store/store.ts";
import type { DataExports } from "./data_exports.ts";
import type { AccountErasure } from "./erasure.ts";
import type { MediaReleaser } from "./messages.ts";

/** What one sweep did. */
export interface SweepReport {
  /** Conversations with a retention period that were looked at. */
  conversations: number;
  messagesRemoved: number;
  eventsRemoved: number;
  exportsRemoved: number;
  erasuresResumed: number;
  /** Resolved reports, answered invitations, ended invite links and bans past their keeping time. */
  moderationRemoved: number;
  /** Records of pushes sent more than {@link PUSH_RECORD_DAYS} ago. */
  pushRecordsRemoved: number;
}

/** How long the record of a push (which session got which message, its ack) is kept. */
export const PUSH_RECORD_DAYS = 30;

/** How long moderation records are kept once they are settled. */
export const MODERATION_RETENTION = {
  /** A resolved report (with its evidence): a year, for appeals and legal requests. */
  resolvedReportDays: 365,
  /** An accepted or declined invitation. */
  answeredInvitationDays: 30,
  /** An invite link that expired or was revoked, a ban whose `until` passed. */
  endedDays: 30,
} as const;

const CONVERSATION_PAGE = 100;
const BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * The background sweep, every RETENTION_SWEEP_SECONDS on every instance (each step is idempotent, so
 * instances may overlap): enforces per-conversation message retention in batches, removes expired
 * data exports, and resumes erasures a crash cut short.
 *
 * Retention: in a conversation with `retentionDays`, messages of any kind (text, media, system,
 * tombstones) created more than that many days ago are removed in seq order, with every event at or
 * below the last removed seq and every later event about a removed message, their reactions, media
 * references and hidden marks; media no message or avatar uses any more is deleted. No event is
 * published: history and `/events` simply no longer return them.
 */
export class PrivacySweeper {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<SweepReport> | null = null;
  readonly #removed: Counter;

  constructor(
    private readonly deps: {
      store: Pick<Store, "privacy" | "moderation" | "push" | "search">;
      media: MediaReleaser;
      exports: DataExports;
      erasure: AccountErasure;
      logger: Logger;
      metrics: MetricsRegistry;
      intervalMs: number;
    },
  ) {
    this.#removed = deps.metrics.counter(
      "parley_retention_removed_messages_total",
      "Messages removed by retention",
    );
  }

  start(): void {
    const timer = setInterval(() => {
      this.sweep().catch((err) =>
        this.deps.logger.error("privacy sweep failed", { "error.message": String(err) })
      );
    }, this.deps.intervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** Runs one sweep as of `now` (tests pass a later date instead of waiting); one at a time. */
  sweep(now = new Date()): Promise<SweepReport> {
    this.#running ??= this.#sweep(now).finally(() => this.#running = null);
    return this.#running;
  }

  async #sweep(now: Date): Promise<SweepReport> {
    const retention = await this.#retention(now);
    const report: SweepReport = {
      ...retention,
      exportsRemoved: await this.deps.exports.expire(now),
      erasuresResumed: await this.deps.erasure.resumePending(now),
      moderationRemoved: await this.deps.store.moderation.purgeModeration({
        reportsResolvedBefore: daysBefore(now, MODERATION_RETENTION.resolvedReportDays),
        invitationsAnsweredBefore: daysBefore(now, MODERATION_RETENTION.answeredInvitationDays),
        endedBefore: daysBefore(now, MODERATION_RETENTION.endedDays),
      }),
      pushRecordsRemoved: await this.deps.store.push.pruneDeliveries(
        daysBefore(now, PUSH_RECORD_DAYS),
      ),
    };
    if (retention.messagesRemoved > 0 || report.moderationRemoved > 0) {
      await this.deps.store.privacy.scrub();
    }
    if (
      report.messagesRemoved || report.exportsRemoved || report.erasuresResumed ||
      report.moderationRemoved || report.pushRecordsRemoved
    ) {
      this.deps.logger.info("privacy sweep", {
        "parley.retention.messages": report.messagesRemoved,
        "parley.retention.events": report.eventsRemoved,
        "parley.exports.removed": report.exportsRemoved,
        "parley.erasures.resumed": report.erasuresResumed,
        "parley.moderation.removed": report.moderationRemoved,
        "parley.push.records_removed": report.pushRecordsRemoved,
      });
    }
    return report;
  }

  async #retention(now: Date) {
    const out = { conversations: 0, messagesRemoved: 0, eventsRemoved: 0 };
    let afterId: string | undefined;
    for (;;) {
      const page = await this.deps.store.privacy.retentionConversations({
        limit: CONVERSATION_PAGE,
        afterId,
      });
      for (const c of page) {
        out.conversations++;
        const cutoff = new Date(now.getTime() - c.retentionDays * DAY_MS).toISOString();
        for (;;) {
          const batch = await this.deps.store.privacy.sweepRetention(c.id, cutoff, BATCH);
          // The index may live apart (SQLite: its own file); a crash before this leaves entries
          // whose message is gone, which the search drops (and removes) when it meets them.
          if (batch.messageIds.length) {
            await this.deps.store.search.removeMessages(batch.messageIds);
          }
          out.messagesRemoved += batch.messages;
          out.eventsRemoved += batch.events;
          this.#removed.inc({}, batch.messages);
          if (batch.mediaIds.length) await this.deps.media.release(batch.mediaIds);
          if (batch.messages < BATCH) break;
        }
      }
      if (page.length < CONVERSATION_PAGE) return out;
      afterId = page.at(-1)!.id;
    }
  }
}

function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}
