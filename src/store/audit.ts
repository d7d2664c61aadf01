/** One entry of the audit log: who did what to what, when and from where. Never message content. */
export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actorId: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/** The append-only audit log. Part of {@link import("./store.ts").Store}. */
export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries, newest first, optionally filtered, before the entry id `before`. */
  listAudit(
    options: { limit: number; before?: string; action?: string; actorId?: string },
  ): Promise<AuditEntry[]>;
}
