import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { AppError, conflict, notFound } from "../domain/errors.ts";
import { checkSend } from "../domain/send.ts";
import { futureTime } from "../domain/future_time.ts";
import { newId, nowIso } from "../ids.ts";
import type { JobRunner } from "../jobs/runner.ts";
import type { Logger } from "../observability/logger.ts";
import type { JobRecord, ScheduledCursor, ScheduledRecord, Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";
import type { MessagesService } from "./messages.ts";
import type { Notices } from "./notices.ts";
import type { MediaCatalog } from "./render.ts";
import type { UserData } from "./user_data.ts";

/** The job kind that sends a scheduled message. */
export const SEND_SCHEDULED = "scheduled.send";

/** A scheduled message as its author sees it. */
export interface ScheduledView {
  id: string;
  conversationId: string;
  clientMsgId: string;
  text?: string;
  mediaIds: string[];
  sendAt: string;
  status: "pending" | "failed";
  failure?: { code: string; detail: string };
  createdAt: string;
  updatedAt: string;
}

/** What a client sends to schedule a message. */
export interface ScheduleInput {
  clientMsgId: string;
  text?: string;
  mediaIds?: string[];
  sendAt: string;
}

function jobKey(id: string): string {
  return `scheduled:${id}`;
}

function scheduledAad(id: string): string {
  return `scheduled:${id}`;
}

function isCursor(v: unknown): v is ScheduledCursor {
  const c = v as ScheduledCursor;
  return typeof c?.sendAt === "string" && typeof c?.id === "string";
}

/**
 * Scheduled messages: kept encrypted under the author's data key until `sendAt`, then sent exactly
 * once by whichever instance's job runner finds the `scheduled.send` job due (within the runner's
 * lease and poll times, also after a restart or with an instance killed), as an ordinary message of
 * the author with the permissions that hold at that moment. A refused send becomes a
 * `scheduled.failed` user event carrying the problem's code; a sent one a `scheduled.sent` event.
 */
export class ScheduledMessages implements UserData {
  readonly exportPath = "scheduled.jsonl";
  readonly exportDescription =
    "your messages scheduled but not sent yet (text decrypted), and ones that failed";

  constructor(
    private readonly deps: {
      store: Pick<Store, "scheduled" | "jobs" | "messages">;
      dataKeys: DataKeys;
      media: MediaCatalog;
      conversations: ConversationsService;
      messages: MessagesService;
      notices: Notices;
      jobs: JobRunner;
      logger: Logger;
    },
  ) {
    deps.jobs.register(SEND_SCHEDULED, (job) => this.#send(job), {
      // A short lease: a job whose instance died is sent by another within about a second.
      leaseMs: 1000,
      concurrency: 8,
      onGiveUp: (job, err) => this.#gaveUp(job, err),
    });
  }

  /** Schedules a message (201), or answers with the one already scheduled under this clientMsgId. */
  async schedule(
    actor: Actor,
    conversationId: string,
    input: ScheduleInput,
  ): Promise<{ scheduled: ScheduledView; created: boolean }> {
    await this.deps.conversations.membership(actor, conversationId);
    const content = checkSend(input);
    const sendAt = this.#sendAt(input.sendAt);
    if (await this.deps.store.messages.getMessageByClientId(actor.userId, input.clientMsgId)) {
      throw conflict("clientMsgId was already used for a sent message");
    }
    if (content.mediaIds.length) {
      await this.deps.media.checkAttachable(actor.userId, content.mediaIds, "mediaIds");
    }
    const id = newId();
    const at = nowIso();
    const stored = await this.deps.store.scheduled.createScheduled({
      id,
      userId: actor.userId,
      conversationId,
      clientMsgId: input.clientMsgId,
      body: content.text === undefined
        ? null
        : await this.deps.dataKeys.sealText(actor.userId, content.text, scheduledAad(id)),
      mediaIds: content.mediaIds,
      sendAt,
      status: "pending",
      failure: null,
      createdAt: at,
      updatedAt: at,
    });
    const s = stored.scheduled;
    if (stored.status === "exists" && s.conversationId !== conversationId) {
      throw conflict("clientMsgId was already used for a message in another conversation");
    }
    // Enqueued after the row: a job whose row is missing does nothing, a row whose job is missing
    // is re-enqueued here by the retry that a failed request gets.
    if (s.status === "pending") {
      await this.deps.jobs.enqueue({
        kind: SEND_SCHEDULED,
        key: jobKey(s.id),
        payload: { scheduledId: s.id },
        runAt: new Date(s.sendAt),
      });
    }
    return { scheduled: await this.#view(s), created: stored.status === "created" };
  }

  /** The caller's scheduled messages, soonest first. */
  async list(
    actor: Actor,
    options: { limit: number; cursor?: string },
  ): Promise<{ scheduled: ScheduledView[]; nextCursor?: string }> {
    const after = options.cursor ? decodeCursor(options.cursor, isCursor) : undefined;
    const rows = await this.deps.store.scheduled.listScheduled(actor.userId, {
      limit: options.limit + 1,
      after,
    });
    const page = rows.slice(0, options.limit);
    const views = await Promise.all(page.map((s) => this.#view(s)));
    const last = page.at(-1);
    return rows.length > options.limit && last
      ? { scheduled: views, nextCursor: encodeCursor({ sendAt: last.sendAt, id: last.id }) }
      : { scheduled: views };
  }

  /**
   * Changes the text, attachments or time of a message not sent yet (404 for someone else's or one
   * already sent; 409 while it is being sent or after it failed).
   */
  async update(
    actor: Actor,
    id: string,
    patch: { text?: string; mediaIds?: string[]; sendAt?: string },
  ): Promise<ScheduledView> {
    const s = await this.#own(actor, id);
    if (s.status !== "pending") throw conflict("The scheduled message failed; schedule it again");
    const text = patch.text ?? (s.body ? await this.#text(s) ?? undefined : undefined);
    const content = checkSend({ text, mediaIds: patch.mediaIds ?? s.mediaIds });
    if (patch.mediaIds?.length) {
      await this.deps.media.checkAttachable(actor.userId, content.mediaIds, "mediaIds");
    }
    const sendAt = patch.sendAt === undefined ? s.sendAt : this.#sendAt(patch.sendAt);
    const now = nowIso();
    if (!await this.deps.store.jobs.reschedule(jobKey(id), { runAt: sendAt, now })) {
      throw conflict("The message is being sent");
    }
    const updated = await this.deps.store.scheduled.updateScheduled(id, {
      body: patch.text === undefined
        ? undefined
        : await this.deps.dataKeys.sealText(actor.userId, content.text!, scheduledAad(id)),
      mediaIds: patch.mediaIds === undefined ? undefined : content.mediaIds,
      sendAt,
      updatedAt: now,
    });
    this.deps.jobs.wake();
    if (!updated) throw notFound("Scheduled message not found");
    return await this.#view(updated);
  }

  /** Cancels a message not sent yet (409 while it is being sent). */
  async cancel(actor: Actor, id: string): Promise<void> {
    const s = await this.#own(actor, id);
    const cancelled = await this.deps.store.jobs.cancel(jobKey(id), nowIso());
    if (!cancelled && s.status === "pending" && await this.deps.store.jobs.getByKey(jobKey(id))) {
      throw conflict("The message is being sent");
    }
    await this.deps.store.scheduled.deleteScheduled(id);
  }

  /** Removes every scheduled message of a user (erasure): their jobs first, then the rows. */
  async eraseUser(userId: string): Promise<number> {
    const ids = await this.deps.store.scheduled.deleteUserScheduled(userId);
    const now = nowIso();
    for (const id of ids) await this.deps.store.jobs.cancel(jobKey(id), now);
    return ids.length;
  }

  /** Every scheduled message of a user with its text, for their data export. */
  async exportUser(userId: string): Promise<ScheduledView[]> {
    const out: ScheduledView[] = [];
    let after: ScheduledCursor | undefined;
    for (;;) {
      const page = await this.deps.store.scheduled.listScheduled(userId, { limit: 200, after });
      for (const s of page) out.push(await this.#view(s));
      if (page.length < 200) return out;
      after = { sendAt: page.at(-1)!.sendAt, id: page.at(-1)!.id };
    }
  }

  async #send(job: JobRecord): Promise<void> {
    const s = await this.deps.store.scheduled.getScheduled(job.payload.scheduledId as string);
    if (!s || s.status !== "pending") return;
    const text = s.body ? await this.#text(s) : null;
    const author: Actor = { userId: s.userId, sessionId: `scheduled:${s.id}`, role: "user" };
    let sent;
    try {
      sent = await this.deps.messages.send(author, s.conversationId, {
        clientMsgId: s.clientMsgId,
        ...(text === null ? {} : { text }),
        ...(s.mediaIds.length ? { mediaIds: s.mediaIds } : {}),
      }, { scheduled: true });
    } catch (err) {
      // Refused by the rules as they are now: final, the author is told why.
      if (err instanceof AppError && err.status < 500) return await this.#refused(s, err);
      throw err;
    }
    await this.deps.store.scheduled.deleteScheduled(s.id);
    await this.deps.notices.notifyUser(s.userId, {
      event: "scheduled.sent",
      conversationId: s.conversationId,
      data: { id: s.id, conversationId: s.conversationId, messageId: sent.message.id },
    });
  }

  async #refused(s: ScheduledRecord, err: AppError): Promise<void> {
    const failed = await this.deps.store.scheduled.failScheduled(s.id, {
      code: err.code,
      detail: err.message,
      at: nowIso(),
    });
    if (!failed) return;
    await this.deps.notices.notifyUser(s.userId, {
      event: "scheduled.failed",
      conversationId: s.conversationId,
      data: { scheduled: await this.#view(failed), error: { code: err.code, detail: err.message } },
    });
  }

  async #gaveUp(job: JobRecord, err: unknown): Promise<void> {
    const s = await this.deps.store.scheduled.getScheduled(job.payload.scheduledId as string);
    this.deps.logger.error("scheduled message could not be sent", {
      "parley.scheduled.id": job.payload.scheduledId as string,
      "error.message": String(err),
    });
    if (s) {
      await this.#refused(
        s,
        new AppError(500, "internal_error", "Internal error", "Sending failed"),
      );
    }
  }

  async #own(actor: Actor, id: string): Promise<ScheduledRecord> {
    const s = await this.deps.store.scheduled.getScheduled(id);
    if (!s || s.userId !== actor.userId) throw notFound("Scheduled message not found");
    return s;
  }

  #sendAt(raw: string): string {
    return futureTime(raw, "sendAt");
  }

  async #text(s: ScheduledRecord): Promise<string | null> {
    return s.body ? await this.deps.dataKeys.openText(s.body, scheduledAad(s.id)) : null;
  }

  async #view(s: ScheduledRecord): Promise<ScheduledView> {
    const view: ScheduledView = {
      id: s.id,
      conversationId: s.conversationId,
      clientMsgId: s.clientMsgId,
      mediaIds: s.mediaIds,
      sendAt: s.sendAt,
      status: s.status,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
    const text = await this.#text(s);
    if (text !== null) view.text = text;
    if (s.failure) view.failure = s.failure;
    return view;
  }
}
