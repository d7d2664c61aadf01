import type { Filter } from "mongodb";
import type { DataExportPatch, DataExportRecord, ExportStatus } from "../../domain/privacy.ts";
import type { ExportStore } from "../exports.ts";
import type { Mongo } from "./_db.ts";
import type { DataExportDoc } from "./schema.ts";

function toExport({ _id, ...rest }: DataExportDoc): DataExportRecord {
  // Exports made before conversation exports existed have no conversationId.
  return { id: _id, ...rest, conversationId: rest.conversationId ?? null };
}

async function createExport(m: Mongo, { id, ...rest }: DataExportRecord): Promise<void> {
  await m.dataExports.insertOne({ _id: id, ...rest });
}

async function getExport(m: Mongo, id: string): Promise<DataExportRecord | null> {
  const d = await m.dataExports.findOne({ _id: id });
  return d ? toExport(d) : null;
}

/** Applies `patch` in one atomic update, only while the status is `whenStatus` when given. */
async function updateExport(
  m: Mongo,
  id: string,
  patch: DataExportPatch,
  whenStatus: ExportStatus | undefined,
): Promise<DataExportRecord | null> {
  const filter: Filter<DataExportDoc> = whenStatus ? { _id: id, status: whenStatus } : { _id: id };
  const d = await m.dataExports.findOneAndUpdate(filter, { $set: patch }, {
    returnDocument: "after",
  });
  return d ? toExport(d) : null;
}

async function listExports(m: Mongo, userId: string): Promise<DataExportRecord[]> {
  const docs = await m.dataExports.find({ userId }).sort({ createdAt: -1, _id: -1 }).toArray();
  return docs.map(toExport);
}

async function dueExports(
  m: Mongo,
  now: string,
  limit: number,
): Promise<DataExportRecord[]> {
  const docs = await m.dataExports.find({
    $or: [{ expiresAt: { $lte: now } }, { status: "processing", leaseUntil: { $lte: now } }],
  }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map(toExport);
}

async function deleteExport(m: Mongo, id: string): Promise<boolean> {
  return (await m.dataExports.deleteOne({ _id: id })).deletedCount > 0;
}

/** The MongoDB {@link ExportStore}: data export jobs, updated with one atomic update each. */
export class MongoExports implements ExportStore {
  constructor(private readonly m: Mongo) {}

  createExport(record: DataExportRecord) {
    return createExport(this.m, record);
  }
  getExport(id: string) {
    return getExport(this.m, id);
  }
  updateExport(id: string, patch: DataExportPatch, options: { whenStatus?: ExportStatus } = {}) {
    return updateExport(this.m, id, patch, options.whenStatus);
  }
  listExports(userId: string) {
    return listExports(this.m, userId);
  }
  dueExports(now: string, limit: number) {
    return dueExports(this.m, now, limit);
  }
  deleteExport(id: string) {
    return deleteExport(this.m, id);
  }
}
