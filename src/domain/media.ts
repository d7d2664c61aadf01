/** What an upload is, decided from its bytes. */
export type MediaKind = "image" | "video" | "audio" | "document";

/** Where a media item is in its life: processed off the request path, then ready or failed. */
export type MediaStatus = "processing" | "ready" | "failed";

/**
 * The stored files of one media item: `original` is the encrypted upload (deleted once processed),
 * `main` the processed file a download serves, `thumb` its thumbnail or poster.
 */
export type MediaVariant = "original" | "main" | "thumb";

/** The thumbnail (or video poster) of a media item. */
export interface MediaThumbnail {
  mime: string;
  size: number;
  width: number;
  height: number;
}

/**
 * A media item as stored. While `processing`, `mime` and `size` describe the upload; once `ready`,
 * they and the dimensions describe the processed `main` file. Every stored byte of it is encrypted
 * under the owner's data key `keyId`.
 */
export interface MediaRecord {
  id: string;
  ownerId: string;
  kind: MediaKind;
  status: MediaStatus;
  mime: string;
  size: number;
  /** Sanitised display name; never used as a path. */
  filename: string;
  keyId: string;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  pageCount: number | null;
  /** Audio: peaks in 0..1 for a player's waveform. */
  waveform: number[] | null;
  thumbnail: MediaThumbnail | null;
  /** An animated GIF turned into a silent looping video. */
  animated: boolean;
  failureReason: string | null;
  /** How many times processing was started (a crash mid-job leaves it to be retried). */
  attempts: number;
  /** The instance processing it and until when its claim holds. */
  leaseOwner: string | null;
  leaseUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Fields processing may change. */
export type MediaPatch =
  & Partial<
    Pick<
      MediaRecord,
      | "kind"
      | "status"
      | "mime"
      | "size"
      | "width"
      | "height"
      | "durationMs"
      | "pageCount"
      | "waveform"
      | "thumbnail"
      | "animated"
      | "failureReason"
      | "leaseOwner"
      | "leaseUntil"
    >
  >
  & { updatedAt: string };
