import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { invalidField, notFound } from "../domain/errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { ReportCursor, ReportReason, ReportRecord, Store } from "../store/store.ts";
import type { AdminService } from "./admin.ts";
import type { AuditLog } from "./audit.ts";
import type { ConversationsService } from "./conversations.ts";
import type { MessageRenderer } from "./render.ts";
import { checkReason, MODERATION_KEY_OWNER, reportAad } from "./moderation_keys.ts";
import type { UserData } from "./user_data.ts";

/** What a report keeps of the reported message: as it was when reported. */
export interface Evidence {
  messageId: string;
  conversationId: string;
  senderId: string | null;
  kind: string;
  text?: string;
  poll?: unknown;
  mediaIds: string[];
  createdAt: string;
  editedAt?: string;
}

/** A report as site admins see it (with the evidence). */
export interface ReportView {
  id: string;
  reporterId: string | null;
  reason: ReportReason;
  note?: string;
  conversationId?: string;
  messageId?: string;
  userId?: string;
  status: "open" | "resolved";
  resolution?: string;
  resolvedBy?: string;
  resolvedAt?: string;
  createdAt: string;
  evidence?: Evidence;
}

/** What the reporter gets back. */
export interface FiledReport {
  id: string;
  reason: ReportReason;
  status: "open" | "resolved";
  createdAt: string;
}

function isReportCursor(v: unknown): v is ReportCursor {
  const c = v as ReportCursor;
  return typeof c?.createdAt === "string" && typeof c?.id === "string";
}

/**
 * Reports of messages and users (spam, abuse, illegal content…), and the admins' queue. A reported
 * message is copied, as the reporter saw it, into the report (sealed under the moderation key), so
 * admins still see it after it is edited, deleted or its sender erased; nobody but site admins ever
 * reads a report's evidence.
 */
export class ReportsService implements UserData {
  readonly exportPath = "reports.jsonl";
  readonly exportDescription =
    "the reports you filed (reason, your note, what you reported, status)";

  constructor(
    private readonly deps: {
      store: Pick<Store, "accounts" | "messages" | "moderation">;
      conversations: ConversationsService;
      renderer: MessageRenderer;
      dataKeys: DataKeys;
      admin: AdminService;
      audit: AuditLog;
    },
  ) {}

  /**
   * Files a report of a message (`conversationId` + `messageId`, one the caller can see: 404
   * otherwise) and/or a user.
   */
  async file(
    actor: Actor,
    input: {
      reason: ReportReason;
      note?: string;
      conversationId?: string;
      messageId?: string;
      userId?: string;
    },
  ): Promise<FiledReport> {
    if ((input.messageId === undefined) !== (input.conversationId === undefined)) {
      throw invalidField(
        input.messageId === undefined ? "messageId" : "conversationId",
        "messageId and conversationId go together",
      );
    }
    if (input.messageId === undefined && input.userId === undefined) {
      throw invalidField("userId", "report a message (conversationId + messageId) or a user");
    }
    const id = newId();
    const note = input.note === undefined ? null : checkReason(input.note, "note");
    let evidence: Evidence | undefined;
    if (input.messageId !== undefined) {
      await this.deps.conversations.membership(actor, input.conversationId!);
      const m = await this.deps.store.messages.getMessage(input.conversationId!, input.messageId);
      if (!m || m.kind === "system") throw notFound("Message not found");
      const [view] = await this.deps.renderer.render([m]);
      evidence = {
        messageId: m.id,
        conversationId: m.conversationId,
        senderId: m.senderId,
        kind: m.kind,
        ...(view.text !== undefined ? { text: view.text } : {}),
        ...(view.poll
          ? {
            poll: { question: view.poll.question, options: view.poll.options.map((o) => o.text) },
          }
          : {}),
        mediaIds: m.mediaIds,
        createdAt: m.createdAt,
        ...(m.editedAt ? { editedAt: m.editedAt } : {}),
      };
      if (input.userId !== undefined && input.userId !== m.senderId) {
        throw invalidField("userId", "is not the sender of the reported message");
      }
    }
    const userId = input.userId ?? evidence?.senderId ?? null;
    if (input.userId !== undefined) {
      const u = await this.deps.store.accounts.getUser(input.userId);
      if (!u) throw notFound("User not found");
    }
    const seal = (text: string, part: "note" | "evidence") =>
      this.deps.dataKeys.sealText(MODERATION_KEY_OWNER, text, reportAad(id, part));
    const record: ReportRecord = {
      id,
      reporterId: actor.userId,
      reason: input.reason,
      note: note === null ? null : await seal(note, "note"),
      conversationId: input.conversationId ?? null,
      messageId: input.messageId ?? null,
      userId,
      evidence: evidence ? await seal(JSON.stringify(evidence), "evidence") : null,
      status: "open",
      resolution: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: nowIso(),
    };
    await this.deps.store.moderation.createReport(record);
    return { id, reason: record.reason, status: record.status, createdAt: record.createdAt };
  }

  /** Site admins: reports with `status`, newest first, with their evidence. */
  async list(
    actor: Actor,
    options: { status: "open" | "resolved"; limit: number; cursor?: string },
  ): Promise<{ reports: ReportView[]; nextCursor?: string }> {
    await this.deps.admin.requireAdmin(actor);
    const after = options.cursor ? decodeCursor(options.cursor, isReportCursor) : undefined;
    const rows = await this.deps.store.moderation.listReports(options.status, {
      limit: options.limit + 1,
      after,
    });
    const page = rows.slice(0, options.limit);
    const reports = await Promise.all(page.map((r) => this.#view(r)));
    const last = page.at(-1);
    return rows.length > options.limit && last
      ? { reports, nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) }
      : { reports };
  }

  /** Site admins: resolves (or reopens) a report; audited. */
  async resolve(
    actor: Actor,
    id: string,
    input: { status: "open" | "resolved"; resolution?: string | null },
  ): Promise<ReportView> {
    await this.deps.admin.requireAdmin(actor);
    const resolution = input.resolution ? checkReason(input.resolution, "resolution") : null;
    const changed = await this.deps.store.moderation.resolveReport(id, {
      status: input.status,
      resolution,
      by: actor.userId,
      at: nowIso(),
    });
    if (!changed) throw notFound("Report not found");
    await this.deps.audit.record({
      action: "report.updated",
      actorId: actor.userId,
      targetId: id,
      details: { status: input.status },
    });
    return await this.#view((await this.deps.store.moderation.getReport(id))!);
  }

  async exportUser(userId: string): Promise<unknown[]> {
    const reports = await this.deps.store.moderation.listReportsBy(userId);
    return await Promise.all(reports.map(async (r) => {
      const note = r.note
        ? await this.deps.dataKeys.openText(r.note, reportAad(r.id, "note"))
        : null;
      return {
        id: r.id,
        reason: r.reason,
        ...(note ? { note } : {}),
        conversationId: r.conversationId,
        messageId: r.messageId,
        userId: r.userId,
        status: r.status,
        createdAt: r.createdAt,
      };
    }));
  }

  /** Reports stay for the admins without reporter and note (see `BlocksService.eraseUser`). */
  eraseUser(): Promise<number> {
    return Promise.resolve(0);
  }

  async #view(r: ReportRecord): Promise<ReportView> {
    const [note, evidence] = await Promise.all([
      r.note ? this.deps.dataKeys.openText(r.note, reportAad(r.id, "note")) : null,
      r.evidence ? this.deps.dataKeys.openText(r.evidence, reportAad(r.id, "evidence")) : null,
    ]);
    return {
      id: r.id,
      reporterId: r.reporterId,
      reason: r.reason,
      ...(note ? { note } : {}),
      ...(r.conversationId ? { conversationId: r.conversationId } : {}),
      ...(r.messageId ? { messageId: r.messageId } : {}),
      ...(r.userId ? { userId: r.userId } : {}),
      status: r.status,
      ...(r.resolution ? { resolution: r.resolution } : {}),
      ...(r.resolvedBy ? { resolvedBy: r.resolvedBy } : {}),
      ...(r.resolvedAt ? { resolvedAt: r.resolvedAt } : {}),
      createdAt: r.createdAt,
      ...(evidence ? { evidence: JSON.parse(evidence) } : {}),
    };
  }
}
