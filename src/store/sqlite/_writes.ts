import { accountWrites } from "./_accounts.ts";
import { archiveWrites } from "./_archive.ts";
import { activityWrites } from "./_activity.ts";
import { auditWrites } from "./_audit.ts";
import { conversationWrites } from "./_conversations.ts";
import type { Db } from "./_db.ts";
import { draftWrites } from "./_drafts.ts";
import { exportWrites } from "./_exports.ts";
import { jobWrites } from "./_jobs.ts";
import { mediaWrites } from "./_media.ts";
import { messageWrites } from "./_messages.ts";
import { moderationWrites } from "./_moderation.ts";
import { privacyWrites } from "./_privacy.ts";
import { pushWrites } from "./_push.ts";
import { searchWorkerReads, searchWrites } from "./_search.ts";
import { scheduledWrites } from "./_scheduled.ts";

/**
 * Every write of the SQLite adapter, by name: each area file declares its own. They run on the writer
 * thread's connection (see `writer_worker.ts`), so the event loop never waits on a write lock or an
 * fsync.
 */
export const WRITES = {
  ...accountWrites,
  ...archiveWrites,
  ...activityWrites,
  ...auditWrites,
  ...conversationWrites,
  ...draftWrites,
  ...exportWrites,
  ...jobWrites,
  ...mediaWrites,
  ...messageWrites,
  ...moderationWrites,
  ...privacyWrites,
  ...pushWrites,
  ...searchWrites,
  ...scheduledWrites,
};

/** The name of a write. */
export type WriteName = keyof typeof WRITES;

/** The arguments of a write, without the connection. */
export type WriteArgs<K extends WriteName> = typeof WRITES[K] extends
  (db: Db, ...args: infer A) => unknown ? A
  : never;

/** The result of a write. */
export type WriteResult<K extends WriteName> = ReturnType<typeof WRITES[K]>;

/**
 * Reads a writer thread runs off the event loop, joining its own file (`db`) with the main database
 * (`database`, opened by the thread when it is given one): scans too long for the main thread.
 */
export const WORKER_READS = { ...searchWorkerReads };

/** The name of a worker read. */
export type WorkerReadName = keyof typeof WORKER_READS;
