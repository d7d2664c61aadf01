import { invalidField } from "./errors.ts";

/** Where a data export is in its life: built off the request path, then ready or failed. */
export type ExportStatus = "processing" | "ready" | "failed";

/**
 * A data export (GDPR art. 15/20): one zip archive of everything Parley holds about a user, stored
 * encrypted under the user's data key `keyId` until `expiresAt`, then removed.
 */
export interface DataExportRecord {
  id: string;
  /** Who asked for it (and whose data it holds, for a data export). */
  userId: string;
  /** The conversation it archives (a conversation export); null for a user's data export. */
  conversationId: string | null;
  status: ExportStatus;
  /** The data key the stored archive is encrypted under (once ready). */
  keyId: string | null;
  /** Bytes of the archive (once ready). */
  size: number | null;
  failureReason: string | null;
  /** The instance building it and until when its claim holds (renewed while it works). */
  leaseOwner: string | null;
  leaseUntil: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** When the archive and its record are removed. */
  expiresAt: string;
}

/** Fields a running export may change. */
export type DataExportPatch =
  & Partial<
    Pick<
      DataExportRecord,
      | "status"
      | "keyId"
      | "size"
      | "failureReason"
      | "leaseOwner"
      | "leaseUntil"
      | "completedAt"
      | "expiresAt"
    >
  >
  & { updatedAt: string };

/** Daily engagement counters kept per UTC day. */
export type DailyCounter =
  | "messages"
  | "registrations"
  | "media.image"
  | "media.video"
  | "media.audio"
  | "media.document";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** The UTC calendar day of `at` as `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Parses a `YYYY-MM-DD` day (UTC midnight); throws 400 on `field` when it is not a real date. */
export function parseDay(value: string, field: string): Date {
  const d = new Date(`${value}T00:00:00.000Z`);
  if (!DAY.test(value) || Number.isNaN(d.getTime()) || utcDay(d) !== value) {
    throw invalidField(field, "must be a date as YYYY-MM-DD");
  }
  return d;
}

/** The `n` days ending with `day` (inclusive), oldest first. */
export function daysEnding(day: string, n: number): string[] {
  const end = Date.parse(`${day}T00:00:00.000Z`);
  return Array.from({ length: n }, (_, i) => utcDay(new Date(end - (n - 1 - i) * DAY_MS)));
}

/** Every day from `from` to `to` inclusive, oldest first. */
export function daysBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let t = from.getTime(); t <= to.getTime(); t += DAY_MS) out.push(utcDay(new Date(t)));
  return out;
}

/** The placeholder username of an erased account: unique, and impossible to register. */
export function erasedUsername(userId: string): string {
  return `deleted:${userId}`;
}

/** The display name an erased account keeps. */
export const ERASED_DISPLAY_NAME = "Deleted account";
