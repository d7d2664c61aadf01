import { newId, nowIso } from "../ids.ts";
import type { Logger } from "../observability/logger.ts";
import type { AuditEntry, Store } from "../store/store.ts";
import type { RequestMeta } from "../domain/actor.ts";

/** What an audited action records. `details` must never hold message content or secrets. */
export interface AuditRecord {
  action: string;
  actorId: string | null;
  targetId?: string | null;
  meta?: RequestMeta;
  details?: Record<string, unknown>;
}

/**
 * The audit log of security-relevant and administrative actions (logins, password and role changes,
 * session revocations, erasures): who, what, when, from where. Retrievable by admins.
 */
export class AuditLog {
  constructor(private readonly store: Pick<Store, "audit">, private readonly logger: Logger) {}

  /** Appends an entry. A failure is logged, never surfaced to the user action that caused it. */
  async record(r: AuditRecord): Promise<void> {
    const entry: AuditEntry = {
      id: newId(),
      at: nowIso(),
      action: r.action,
      actorId: r.actorId,
      targetId: r.targetId ?? null,
      ip: r.meta?.ip ?? null,
      userAgent: r.meta?.userAgent?.slice(0, 256) ?? null,
      details: r.details ?? {},
    };
    try {
      await this.store.audit.appendAudit(entry);
    } catch (err) {
      this.logger.error("audit write failed", {
        "event.action": r.action,
        "error.message": err instanceof Error ? err.message : String(err),
      });
    }
  }

  list(options: { limit: number; before?: string; action?: string; actorId?: string }) {
    return this.store.audit.listAudit(options);
  }
}
