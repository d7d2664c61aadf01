import type { MediaKind, MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import type { MediaStore } from "../media.ts";
import { type Db, num, placeholders, type Row, str, strOrNull } from "./_db.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import type { Writer } from "./_writer.ts";

/** Fields kept in the `details` JSON column: read whole, never queried. */
type Details = Pick<
  MediaRecord,
  "width" | "height" | "durationMs" | "pageCount" | "waveform" | "thumbnail" | "animated"
>;

/** Maps a `media` row (also used by the SQLite → MongoDB migration). */
export function toMedia(r: Row): MediaRecord {
  const d = JSON.parse(str(r.details)) as Partial<Details>;
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    kind: str(r.kind) as MediaKind,
    status: str(r.status) as MediaStatus,
    mime: str(r.mime),
    size: num(r.size),
    filename: str(r.filename),
    keyId: str(r.key_id),
    width: d.width ?? null,
    height: d.height ?? null,
    durationMs: d.durationMs ?? null,
    pageCount: d.pageCount ?? null,
    waveform: d.waveform ?? null,
    thumbnail: d.thumbnail ?? null,
    animated: d.animated ?? false,
    failureReason: strOrNull(r.failure_reason),
    attempts: num(r.attempts),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: strOrNull(r.lease_until),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

function details(m: MediaRecord): string {
  const d: Details = {
    width: m.width,
    height: m.height,
    durationMs: m.durationMs,
    pageCount: m.pageCount,
    waveform: m.waveform,
    thumbnail: m.thumbnail,
    animated: m.animated,
  };
  return JSON.stringify(d);
}

export function createMedia(db: Db, m: MediaRecord): void {
  db.run(
    `INSERT INTO media (id, owner_id, kind, status, mime, size, filename, key_id, details,
       failure_reason, attempts, lease_owner, lease_until, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    m.id,
    m.ownerId,
    m.kind,
    m.status,
    m.mime,
    m.size,
    m.filename,
    m.keyId,
    details(m),
    m.failureReason,
    m.attempts,
    m.leaseOwner,
    m.leaseUntil,
    m.createdAt,
    m.updatedAt,
  );
}

export function getMedia(db: Db, id: string): MediaRecord | null {
  const r = db.get("SELECT * FROM media WHERE id = ?", id);
  return r ? toMedia(r) : null;
}

export function getMediaMany(db: Db, ids: string[]): MediaRecord[] {
  if (ids.length === 0) return [];
  return db.all(`SELECT * FROM media WHERE id IN (${placeholders(ids.length)})`, ...ids)
    .map(toMedia);
}

export function updateMedia(
  db: Db,
  id: string,
  patch: MediaPatch,
  options: { whenStatus?: MediaStatus } = {},
): MediaRecord | null {
  const { whenStatus } = options;
  return db.transaction(() => {
    const before = getMedia(db, id);
    if (!before || (whenStatus && before.status !== whenStatus)) return null;
    const after: MediaRecord = { ...before, ...patch };
    db.run(
      `UPDATE media SET kind = ?, status = ?, mime = ?, size = ?, details = ?, failure_reason = ?,
         lease_owner = ?, lease_until = ?, updated_at = ?
       WHERE id = ?`,
      after.kind,
      after.status,
      after.mime,
      after.size,
      details(after),
      after.failureReason,
      after.leaseOwner,
      after.leaseUntil,
      after.updatedAt,
      id,
    );
    return after;
  });
}

export function listMediaByStatus(
  db: Db,
  status: MediaStatus,
  options: { limit: number; afterId?: string },
): MediaRecord[] {
  return db.all(
    "SELECT * FROM media WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
    status,
    options.afterId ?? "",
    options.limit,
  ).map(toMedia);
}

/** Rows while the media is a user's or a live group's avatar (two `?`: the media id twice). */
const AVATAR_USES = `
  SELECT 1 FROM users WHERE avatar_media_id = ? AND deleted_at IS NULL
  UNION ALL
  SELECT 1 FROM conversations WHERE avatar_media_id = ? AND deleted_at IS NULL`;

export function canSeeMedia(db: Db, userId: string, mediaId: string): boolean {
  return db.get(
    `SELECT 1 AS ok FROM media WHERE id = ? AND owner_id = ?
     UNION ALL
     SELECT 1 FROM message_media mm
       JOIN members m ON m.conversation_id = mm.conversation_id AND m.user_id = ?
       WHERE mm.media_id = ?
     UNION ALL ${AVATAR_USES}
     LIMIT 1`,
    mediaId,
    userId,
    userId,
    mediaId,
    mediaId,
    mediaId,
  ) !== undefined;
}

export function isMediaReferenced(db: Db, mediaId: string): boolean {
  return db.get(
    `SELECT 1 AS ok FROM message_media WHERE media_id = ?
     UNION ALL SELECT 1 AS ok FROM held_media WHERE media_id = ?
     UNION ALL ${AVATAR_USES}
     LIMIT 1`,
    mediaId,
    mediaId,
    mediaId,
    mediaId,
  ) !== undefined;
}

/** The media writes, run on the writer thread (see `_writes.ts`). */
export const mediaWrites = {
  createMedia,
  updateMedia,
  deleteMedia: (db: Db, id: string) => db.run("DELETE FROM media WHERE id = ?", id) > 0,
};

/** The SQLite {@link MediaStore}: reads on the main connection, writes on the writer thread. */
export function sqliteMedia(db: Db, writer: Writer): MediaStore {
  return {
    ...bindReads(db, {
      getMedia,
      getMediaMany,
      listMediaByStatus,
      canSeeMedia,
      isMediaReferenced,
    }),
    ...bindWrites(writer, mediaWrites),
  };
}
