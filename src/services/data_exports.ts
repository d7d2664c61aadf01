import type { Config } from "../config.ts";
import type { DataKeys } from "../crypto/envelope.ts";
import { forbidden, notFound } from "../domain/errors.ts";
import { ROLE_RANK } from "../domain/types.ts";
import type { DataExportRecord, ExportStatus } from "../domain/privacy.ts";
import { newId, nowIso } from "../ids.ts";
import type { EncryptedBlobs } from "../media/encrypted_blobs.ts";
import { JobQueue } from "../media/queue.ts";
import type { UrlSigner } from "../media/signed_url.ts";
import type { Logger } from "../observability/logger.ts";
import type { Counter, MetricsRegistry } from "../observability/metrics.ts";
import type { Store } from "../store/store.ts";
import { writeArchive } from "./_export_archive.ts";
import { writeConversationArchive } from "./_conversation_archive.ts";
import type { AdminService } from "./admin.ts";
import type { UserData } from "./user_data.ts";
import type { AuditLog } from "./audit.ts";
import type { Actor, RequestMeta } from "../domain/actor.ts";
import type { Download } from "./media.ts";
import type { Notices } from "./notices.ts";

/** A data export as its owner sees it; `url` (signed, expiring) once it is ready. */
export interface ExportView {
  id: string;
  /** The conversation a conversation export archives. */
  conversationId?: string;
  status: ExportStatus;
  createdAt: string;
  completedAt?: string;
  /** When the archive is removed. */
  expiresAt: string;
  size?: number;
  url?: string;
  /** When `url` stops working (ask again for a fresh one). */
  urlExpiresAt?: string;
  failureReason?: string;
}

const LEASE_MS = 10 * 60_000;
const RENEW_EVERY_MS = 60_000;
const FAILED = "The export could not be built; request a new one";

/**
 * Data exports (GDPR art. 15/20, CCPA): a request queues a job that writes one zip of the user's
 * data, streamed page by page and encrypted under the user's data key as it is written; when it is
 * ready the user's sockets get `data_export.ready`, and a signed, expiring link downloads it. Archives
 * are removed EXPORT_TTL_HOURS after they are ready (or when the account is erased). A job whose
 * instance died is failed by the sweep once its claim lapses.
 */
export class DataExports {
  readonly #queue: JobQueue;
  readonly #outcomes: Counter;
  /** Exports this instance has queued or is building: it keeps their claims alive. */
  readonly #held = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<
        Store,
        "accounts" | "exports" | "privacy" | "conversations" | "media" | "archive" | "messages"
      >;
      admin: AdminService;
      dataKeys: DataKeys;
      /** Where archives are stored (encrypted). */
      blobs: EncryptedBlobs;
      mediaBlobs: EncryptedBlobs;
      /** Features with data of their own about users, exported beside the core data. */
      userData: readonly UserData[];
      signer: UrlSigner;
      notices: Notices;
      audit: AuditLog;
      logger: Logger;
      metrics: MetricsRegistry;
    },
  ) {
    this.#queue = new JobQueue(
      1,
      (id) => this.#run(id),
      (id, err) =>
        deps.logger.error("data export crashed", {
          "parley.export.id": id,
          "error.message": String(err),
        }),
    );
    this.#outcomes = deps.metrics.counter(
      "parley_data_exports_total",
      "Data exports by outcome (ready, failed, expired)",
    );
  }

  /**
   * Starts an export of the caller's data, or returns the one already being built (one at a time
   * per user). Audited as `data_export.requested`.
   */
  async request(actor: Actor, meta: RequestMeta): Promise<ExportView> {
    const running = (await this.deps.store.exports.listExports(actor.userId))
      .find((e) => e.status === "processing" && !e.conversationId);
    if (running) return await this.view(running);
    const record = this.#newRecord(actor.userId, null);
    return await this.#start(record, {
      action: "data_export.requested",
      actorId: actor.userId,
      targetId: record.id,
      meta,
    });
  }

  /**
   * Starts an export of a conversation (its owner or an admin of it; either member of a direct
   * conversation; a site administrator, for a legal hold), or returns the caller's one already being
   * built. 404 for a conversation the caller is not in, 403 for a member without the role. Audited as
   * `conversation.export_requested`.
   */
  async requestConversation(
    actor: Actor,
    conversationId: string,
    meta: RequestMeta,
  ): Promise<ExportView> {
    await this.#mayExport(actor, conversationId);
    const running = (await this.deps.store.exports.listExports(actor.userId))
      .find((e) => e.status === "processing" && e.conversationId === conversationId);
    if (running) return await this.view(running);
    const record = this.#newRecord(actor.userId, conversationId);
    return await this.#start(record, {
      action: "conversation.export_requested",
      actorId: actor.userId,
      targetId: conversationId,
      meta,
      details: { exportId: record.id },
    });
  }

  /** Stores a new export, audits its request and queues it. */
  async #start(
    record: DataExportRecord,
    audit: Parameters<AuditLog["record"]>[0],
  ): Promise<ExportView> {
    await this.deps.store.exports.createExport(record);
    await this.deps.audit.record(audit);
    this.#held.add(record.id);
    this.#queue.add(record.id);
    return await this.view(record);
  }

  /** One of the caller's exports of this conversation, while they may still export it. */
  async getConversationExport(
    actor: Actor,
    conversationId: string,
    exportId: string,
  ): Promise<ExportView> {
    await this.#mayExport(actor, conversationId);
    const e = await this.deps.store.exports.getExport(exportId);
    if (!e || e.userId !== actor.userId || e.conversationId !== conversationId) {
      throw notFound("Export not found");
    }
    return await this.view(e);
  }

  async #mayExport(actor: Actor, conversationId: string): Promise<void> {
    const c = await this.deps.store.conversations.getConversation(conversationId);
    // The role is read from the store (as every admin check does), not from the token.
    const siteAdmin = await this.deps.admin.requireAdmin(actor).then(() => true, () => false);
    if (c && siteAdmin) return;
    const member = c && !c.deletedAt
      ? await this.deps.store.conversations.getMember(conversationId, actor.userId)
      : null;
    if (!c || !member) throw notFound("Conversation not found");
    if (c.type === "group" && ROLE_RANK[member.role] < ROLE_RANK.admin) {
      throw forbidden("Only the owner and admins may export this conversation");
    }
  }

  #newRecord(userId: string, conversationId: string | null): DataExportRecord {
    const now = Date.now();
    const at = new Date(now).toISOString();
    return {
      id: newId(),
      userId,
      conversationId,
      status: "processing",
      keyId: null,
      size: null,
      failureReason: null,
      leaseOwner: this.deps.config.instanceId,
      leaseUntil: new Date(now + LEASE_MS).toISOString(),
      createdAt: at,
      updatedAt: at,
      completedAt: null,
      expiresAt: this.#expiry(now),
    };
  }

  /** One of the caller's data exports; 404 for anyone else's. */
  async get(actor: Actor, id: string): Promise<ExportView> {
    const e = await this.deps.store.exports.getExport(id);
    if (!e || e.userId !== actor.userId || e.conversationId) throw notFound("Export not found");
    return await this.view(e);
  }

  /** The owner's view, with a freshly signed link when ready. */
  async view(e: DataExportRecord): Promise<ExportView> {
    const view: ExportView = {
      id: e.id,
      ...(e.conversationId ? { conversationId: e.conversationId } : {}),
      status: e.status,
      createdAt: e.createdAt,
      expiresAt: e.expiresAt,
    };
    if (e.completedAt) view.completedAt = e.completedAt;
    if (e.size !== null) view.size = e.size;
    if (e.failureReason) view.failureReason = e.failureReason;
    if (e.status === "ready") {
      const exp = Math.min(
        Math.floor(Date.now() / 1000) + this.deps.signer.ttlSeconds,
        Math.floor(Date.parse(e.expiresAt) / 1000),
      );
      view.url = await this.deps.signer.link(`/v1/exports/${e.id}/archive`, resource(e.id), exp);
      view.urlExpiresAt = new Date(exp * 1000).toISOString();
    }
    return view;
  }

  /**
   * Opens an archive for a signed link: 403 when the signature is wrong or expired, 404 when the
   * export is not ready or already removed. Audited as `data_export.downloaded`.
   */
  async download(id: string, link: { exp: string; sig: string }, meta: RequestMeta) {
    if (!(await this.deps.signer.verifyResource(resource(id), link.exp, link.sig))) {
      throw forbidden("This download link is invalid or has expired");
    }
    const e = await this.deps.store.exports.getExport(id);
    if (!e || e.status !== "ready" || !e.keyId || e.expiresAt <= nowIso()) {
      throw notFound("Export not found");
    }
    const key = await this.deps.dataKeys.forReading(e.keyId);
    const reader = key ? await this.deps.blobs.open(key, e.id, "main") : null;
    if (!reader) throw notFound("Export not found");
    await this.deps.audit.record({
      action: "data_export.downloaded",
      actorId: e.userId,
      targetId: e.id,
      meta,
    });
    const download: Download = {
      reader,
      mime: "application/zip",
      filename: e.conversationId
        ? `parley-conversation-${e.conversationId}-${e.createdAt.slice(0, 10)}.zip`
        : `parley-export-${e.createdAt.slice(0, 10)}.zip`,
      disposition: "attachment",
      expiresAt: Number(link.exp),
    };
    return download;
  }

  async #run(id: string): Promise<void> {
    try {
      await this.#build(id);
    } finally {
      this.#held.delete(id);
    }
  }

  async #build(id: string): Promise<void> {
    const e = await this.deps.store.exports.getExport(id);
    if (!e || e.status !== "processing") return;
    const user = await this.deps.store.accounts.getUser(e.userId);
    if (!user || user.deletedAt) return void await this.#remove(e);
    const { keyId, key } = await this.deps.dataKeys.forWriting(user.id);
    const conversation = e.conversationId
      ? await this.deps.store.conversations.getConversation(e.conversationId)
      : null;
    if (e.conversationId && !conversation) return void await this.#remove(e);
    const out = await this.deps.blobs.writer(key, id, "main");
    let size: number;
    try {
      const sources = {
        store: this.deps.store,
        dataKeys: this.deps.dataKeys,
        mediaBlobs: this.deps.mediaBlobs,
        userData: this.deps.userData,
      };
      const write = (chunk: Uint8Array) => out.write(chunk);
      if (conversation) {
        await writeConversationArchive(sources, conversation, user.id, write, new Date());
      } else {
        await writeArchive(sources, user, write, new Date());
      }
      size = await out.finish();
    } catch (err) {
      await out.abort();
      this.deps.logger.error("data export failed", {
        "parley.export.id": id,
        "error.message": err instanceof Error ? err.message : String(err),
      });
      return await this.#settle(id, { status: "failed", failureReason: FAILED });
    }
    await this.#settle(id, { status: "ready", keyId, size, completedAt: nowIso() });
  }

  /** Keeps the claims of this instance's jobs alive every minute. */
  start(): void {
    const timer = setInterval(() => void this.#renew(), RENEW_EVERY_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  async #renew(): Promise<void> {
    const until = new Date(Date.now() + LEASE_MS).toISOString();
    for (const id of this.#held) {
      await this.deps.store.exports.updateExport(id, { leaseUntil: until, updatedAt: nowIso() }, {
        whenStatus: "processing",
      }).catch((err) =>
        this.deps.logger.warn("export claim renewal failed", { "error.message": String(err) })
      );
    }
  }

  async #settle(
    id: string,
    outcome: {
      status: "ready" | "failed";
      keyId?: string;
      size?: number;
      completedAt?: string;
      failureReason?: string;
    },
  ): Promise<void> {
    const at = nowIso();
    const settled = await this.deps.store.exports.updateExport(id, {
      ...outcome,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: at,
      expiresAt: this.#expiry(Date.now()),
    }, { whenStatus: "processing" });
    this.#outcomes.inc({ outcome: outcome.status });
    if (!settled) {
      // Removed meanwhile (the account was erased): nothing may stay behind.
      await this.deps.blobs.deleteAll(id);
      return;
    }
    const kind = settled.conversationId ? "conversation_export" : "data_export";
    await this.deps.notices.notifyUser(settled.userId, {
      event: settled.status === "ready" ? `${kind}.ready` : `${kind}.failed`,
      data: await this.view(settled),
    });
  }

  /**
   * Removes exports whose time is up at `now` (archive, then record) and fails jobs whose instance
   * died. Returns how many were removed.
   */
  async expire(now: Date): Promise<number> {
    let removed = 0;
    for (const e of await this.deps.store.exports.dueExports(now.toISOString(), 100)) {
      if (e.expiresAt <= now.toISOString()) {
        await this.#remove(e);
        this.#outcomes.inc({ outcome: "expired" });
        removed++;
      } else if (!this.#held.has(e.id)) {
        await this.deps.blobs.deleteAll(e.id);
        await this.#settle(e.id, { status: "failed", failureReason: FAILED });
      }
    }
    return removed;
  }

  /** Removes every export of a user (an erasure). */
  async purgeUser(userId: string): Promise<void> {
    for (const e of await this.deps.store.exports.listExports(userId)) await this.#remove(e);
  }

  async #remove(e: DataExportRecord): Promise<void> {
    await this.deps.blobs.deleteAll(e.id);
    await this.deps.store.exports.deleteExport(e.id);
  }

  /** Resolves when no export is being built (tests). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Stops taking jobs and waits for the running one (queued ones are failed by a later sweep). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#queue.close();
  }

  #expiry(from: number): string {
    return new Date(from + this.deps.config.exportTtlHours * 3_600_000).toISOString();
  }
}

function resource(exportId: string): string {
  return `export-url:v1:${exportId}`;
}
