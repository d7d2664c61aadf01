import type { MediaPatch, MediaRecord, MediaStatus } from "../domain/media.ts";

/**
 * Media records: uploads, their processing state and who may see them. Part of
 * {@link import("./store.ts").Store}. A message's media references are added and dropped in the same
 * commit as the message (see the log), so `canSeeMedia` and `isMediaReferenced` never see a
 * half-applied change.
 */
export interface MediaStore {
  createMedia(media: MediaRecord): Promise<void>;
  getMedia(id: string): Promise<MediaRecord | null>;
  /** The media with these ids that exist, in no particular order. */
  getMediaMany(ids: string[]): Promise<MediaRecord[]>;
  /**
   * Applies `patch`; with `whenStatus`, only while the item is still in that status. Returns the
   * updated record, or null when it is gone or the condition failed.
   */
  updateMedia(
    id: string,
    patch: MediaPatch,
    options?: { whenStatus?: MediaStatus },
  ): Promise<MediaRecord | null>;
  /** Media in `status`, oldest first (by id), after `afterId`: crash recovery pages through them. */
  listMediaByStatus(
    status: MediaStatus,
    options: { limit: number; afterId?: string },
  ): Promise<MediaRecord[]>;
  /** Deletes the record; false when there was none. */
  deleteMedia(id: string): Promise<boolean>;
  /**
   * Whether `userId` may see the media: its uploader, a member of a conversation where a live message
   * carries it, or anyone when it is a user's or a live group's avatar.
   */
  canSeeMedia(userId: string, mediaId: string): Promise<boolean>;
  /** Whether a live message, a user's avatar or a live group's avatar still uses the media. */
  isMediaReferenced(mediaId: string): Promise<boolean>;
}
