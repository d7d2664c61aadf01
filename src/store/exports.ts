import type { DataExportPatch, DataExportRecord, ExportStatus } from "../domain/privacy.ts";

/** Data export jobs (GDPR access requests). Part of {@link import("./store.ts").Store}. */
export interface ExportStore {
  createExport(record: DataExportRecord): Promise<void>;
  getExport(id: string): Promise<DataExportRecord | null>;
  /**
   * Applies `patch`; with `whenStatus`, only while the export is still in that status. Returns the
   * updated record, or null when it is gone or the condition failed.
   */
  updateExport(
    id: string,
    patch: DataExportPatch,
    options?: { whenStatus?: ExportStatus },
  ): Promise<DataExportRecord | null>;
  /** A user's exports, newest first. */
  listExports(userId: string): Promise<DataExportRecord[]>;
  /**
   * Exports whose time is up at `now`: expired ones (`expiresAt <= now`) and processing ones whose
   * claim lapsed (`leaseUntil <= now`: their instance died).
   */
  dueExports(now: string, limit: number): Promise<DataExportRecord[]>;
  /** Deletes the record; false when there was none. */
  deleteExport(id: string): Promise<boolean>;
}
