import { nowIso } from "../ids.ts";
import { type JobRunner, newJob } from "../jobs/runner.ts";
import type { JobRecord, NewJob, Store } from "../store/store.ts";
import type { EventLog } from "./events.ts";

/** The job kind that deletes a disappearing message at its `expiresAt`. */
export const EXPIRE_MESSAGE = "message.expire";
/** The job kind that makes deleted data physically unrecoverable (coalesced: one at a time). */
export const SCRUB_STORE = "store.scrub";
/** After a deletion, how long to wait for others to share one scrub. */
const SCRUB_AFTER_MS = 1000;

/** The job that deletes a disappearing message at `at`; it commits with the message. */
export function expiryJob(conversationId: string, messageId: string, at: Date, now: Date): NewJob {
  return newJob({
    kind: EXPIRE_MESSAGE,
    key: `expire:${messageId}`,
    payload: { conversationId, messageId },
    runAt: at,
    maxAttempts: 20,
  }, now);
}

/**
 * Disappearing messages: at its `expiresAt` a message is deleted for everyone (a durable
 * `message.deleted` with the tombstone; body, attachments, reactions and edit history go in that
 * commit), the media it alone used is deleted, and a scrub follows within a second or two, so no
 * older copy stays in the store's files (SQLite: the WAL is checkpointed and truncated, and
 * `secure_delete` zeroed the freed pages).
 */
export class MessageExpiry {
  constructor(
    private readonly deps: {
      store: Pick<Store, "messages" | "privacy">;
      events: EventLog;
      media: { release(mediaIds: string[]): Promise<void> };
      jobs: JobRunner;
    },
  ) {
    deps.jobs.register(EXPIRE_MESSAGE, (job) => this.#expire(job), { concurrency: 8 });
    deps.jobs.register(SCRUB_STORE, () => deps.store.privacy.scrub(), { concurrency: 1 });
  }

  async #expire(job: JobRecord): Promise<void> {
    const conversationId = job.payload.conversationId as string;
    const messageId = job.payload.messageId as string;
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m || m.deletedAt) return;
    const at = nowIso();
    const result = await this.deps.events.commitUnlessGone({
      conversationId,
      event: "message.deleted",
      actorId: null,
      messageId,
      at,
      mutations: [{ op: "eraseMessage", messageId, deletedAt: at }],
    });
    // The conversation was deleted meanwhile: its messages went with it.
    if (result.status === "missing") return;
    if (m.mediaIds.length) await this.deps.media.release(m.mediaIds);
    // One scrub per second at most; keyed by its second, so a scrub already running (which may
    // have started before this deletion) never stands in for the one this deletion needs.
    const runAt = Math.ceil((Date.now() + SCRUB_AFTER_MS) / 1000) * 1000;
    await this.deps.jobs.enqueue({
      kind: SCRUB_STORE,
      key: `${SCRUB_STORE}:${runAt}`,
      payload: {},
      runAt: new Date(runAt),
    });
  }
}
