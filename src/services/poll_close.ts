import { nowIso } from "../ids.ts";
import { type JobRunner, newJob } from "../jobs/runner.ts";
import type { JobRecord, NewJob } from "../store/store.ts";
import type { EventLog } from "./events.ts";

/** The job kind that closes a poll at its `closesAt`. */
export const CLOSE_POLL = "poll.close";

/** The job that closes a poll at `at`; it commits with the poll. */
export function pollCloseJob(
  conversationId: string,
  messageId: string,
  at: Date,
  now: Date,
): NewJob {
  return newJob({
    kind: CLOSE_POLL,
    key: `poll:${messageId}`,
    payload: { conversationId, messageId },
    runAt: at,
    maxAttempts: 20,
  }, now);
}

/**
 * Closes polls at their `closesAt`: a durable `message.updated` (with `poll.closed: true`) tells the
 * members. Votes are refused from `closesAt` on even before this runs.
 */
export function registerPollClosing(deps: { jobs: JobRunner; events: EventLog }): void {
  deps.jobs.register(CLOSE_POLL, async (job: JobRecord) => {
    const messageId = job.payload.messageId as string;
    // A conversation deleted meanwhile has nothing left to close (the `missing` outcome).
    await deps.events.commitUnlessGone({
      conversationId: job.payload.conversationId as string,
      event: "message.updated",
      actorId: null,
      messageId,
      at: nowIso(),
      mutations: [{ op: "closePoll", messageId }],
    });
  }, { concurrency: 4 });
}
