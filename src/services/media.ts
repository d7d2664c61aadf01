import type { Config } from "../config.ts";
import type { DataKeys } from "../crypto/envelope.ts";
import { forbidden, invalidField, notFound } from "../domain/errors.ts";
import type { MediaRecord } from "../domain/media.ts";
import { newId, nowIso } from "../ids.ts";
import type { EncryptedBlobs, EncryptedReader } from "../media/encrypted_blobs.ts";
import { sanitizeFilename, withExtension } from "../media/filename.ts";
import { ingest, type Upload } from "../media/ingest.ts";
import type { LinkVariant, UrlSigner } from "../media/signed_url.ts";
import type { Logger } from "../observability/logger.ts";
import type { Store } from "../store/store.ts";
import type { Actor } from "../domain/actor.ts";
import type { MediaJobs } from "./media_jobs.ts";
import type { MediaReleaser } from "./messages.ts";
import type { Notices } from "./notices.ts";
import type { MediaCatalog, MediaView } from "./render.ts";
import type { AvatarResolver, MediaRef } from "./users.ts";

/** A media item as clients see it: links are signed when the view is made. */
export type MediaItemView = MediaView;

/** An open download: what to send and how to describe it. */
export interface Download {
  reader: EncryptedReader;
  mime: string;
  filename: string;
  /** Documents download as attachments; images, video and audio display inline. */
  disposition: "inline" | "attachment";
  /** When the link expires (Unix seconds), for caching. */
  expiresAt: number;
}

/**
 * Media: streamed, type-checked, encrypted uploads; processing through {@link MediaJobs}; views
 * with fresh signed links for those who may see an item (its uploader, members of a conversation
 * where a message carries it, anyone for avatars); downloads by signed link; attachments, avatars,
 * and release of items no message or avatar uses any more.
 */
export class MediaService implements MediaCatalog, MediaReleaser, AvatarResolver {
  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<Store, "media" | "privacy">;
      dataKeys: DataKeys;
      blobs: EncryptedBlobs;
      signer: UrlSigner;
      jobs: MediaJobs;
      notices: Notices;
      logger: Logger;
    },
  ) {
    deps.jobs.onRelease((id) => this.#releaseOne(id));
  }

  /**
   * Stores an upload (streamed, encrypted, 413/415 while streaming) and queues its processing.
   * Answers once the bytes are stored, with status `processing`.
   */
  async upload(actor: Actor, upload: Upload): Promise<MediaItemView> {
    const id = newId();
    const { keyId, key } = await this.deps.dataKeys.forWriting(actor.userId);
    const stored = await ingest(upload, {
      limits: this.deps.config.media.maxBytes,
      // Documents are kept as uploaded, so their upload is the main file from the start.
      open: (kind) => this.deps.blobs.writer(key, id, kind === "document" ? "main" : "original"),
    });
    const at = nowIso();
    const record: MediaRecord = {
      id,
      ownerId: actor.userId,
      kind: stored.kind,
      status: "processing",
      mime: stored.mime,
      size: stored.size,
      filename: sanitizeFilename(upload.filename, stored.mime),
      keyId,
      width: null,
      height: null,
      durationMs: null,
      pageCount: stored.pageCount ?? null,
      waveform: null,
      thumbnail: null,
      animated: false,
      failureReason: null,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: at,
      updatedAt: at,
    };
    try {
      await this.deps.store.media.createMedia(record);
    } catch (err) {
      await this.deps.blobs.deleteAll(id);
      throw err;
    }
    await this.deps.jobs.enqueue(id);
    return await this.view(record);
  }

  /** One item with fresh links; 404 unless the caller may see it. */
  async get(actor: Actor, mediaId: string): Promise<MediaItemView> {
    const m = await this.deps.store.media.getMedia(mediaId);
    if (!m || !(await this.deps.store.media.canSeeMedia(actor.userId, mediaId))) {
      throw notFound("Media not found");
    }
    return await this.view(m);
  }

  /** The client's view of an item, with links signed now. */
  async view(m: MediaRecord): Promise<MediaItemView> {
    const ready = m.status === "ready";
    const view: MediaItemView = {
      id: m.id,
      kind: m.kind,
      mime: m.mime,
      size: m.size,
      filename: displayName(m),
      status: m.status,
      url: await this.deps.signer.sign(m.id, "main"),
      createdAt: m.createdAt,
    };
    if (ready && m.thumbnail) view.thumbnailUrl = await this.deps.signer.sign(m.id, "thumb");
    if (m.width !== null) view.width = m.width;
    if (m.height !== null) view.height = m.height;
    if (m.durationMs !== null) view.durationMs = m.durationMs;
    if (m.waveform) view.waveform = m.waveform;
    if (m.pageCount !== null) view.pageCount = m.pageCount;
    if (m.animated) view.animated = true;
    if (m.failureReason) view.failureReason = m.failureReason;
    return view;
  }

  async views(mediaIds: string[]): Promise<Map<string, MediaView>> {
    const found = await this.deps.store.media.getMediaMany(mediaIds);
    return new Map(await Promise.all(found.map(async (m) => [m.id, await this.view(m)] as const)));
  }

  async checkAttachable(userId: string, mediaIds: string[], field: string): Promise<void> {
    const found = new Map(
      (await this.deps.store.media.getMediaMany(mediaIds)).map((m) => [m.id, m]),
    );
    for (const id of mediaIds) {
      const m = found.get(id);
      if (!m || m.ownerId !== userId) throw invalidField(field, `no such media: ${id}`);
      if (m.status === "processing") {
        throw invalidField(field, `media ${id} is still processing; send it once it is ready`);
      }
      if (m.status === "failed") throw invalidField(field, `media ${id} failed to process`);
    }
  }

  /** Deletes every given item that no live message or avatar uses any more (files, then record). */
  async release(mediaIds: string[]): Promise<void> {
    for (const id of new Set(mediaIds)) {
      try {
        await this.#releaseOne(id);
      } catch (err) {
        // The files stay (the bucket may be down): a durable job retries until they are gone.
        this.deps.logger.warn("media release failed; retrying as a job", {
          "parley.media.id": id,
          "error.message": String(err),
        });
        await this.deps.jobs.enqueueRelease(id);
      }
    }
  }

  /** Deletes an item nothing refers to any more: files first, then the record. */
  async #releaseOne(id: string): Promise<void> {
    if (await this.deps.store.media.isMediaReferenced(id)) return;
    await this.deps.blobs.deleteAll(id);
    await this.deps.store.media.deleteMedia(id);
  }

  /**
   * Deletes every item `ownerId` uploaded, used or not (an erasure): files first, then records.
   * Returns how many were deleted.
   */
  async purgeOwned(ownerId: string): Promise<number> {
    let count = 0;
    for (;;) {
      const page = await this.deps.store.privacy.listMediaByOwner(ownerId, { limit: 100 });
      for (const m of page) {
        await this.deps.blobs.deleteAll(m.id);
        if (await this.deps.store.media.deleteMedia(m.id)) count++;
      }
      if (page.length < 100) return count;
    }
  }

  async checkUsable(userId: string, mediaId: string, field: string): Promise<void> {
    const m = await this.deps.store.media.getMedia(mediaId);
    if (!m || m.ownerId !== userId) throw invalidField(field, "no such media");
    if (m.kind !== "image" || m.status !== "ready") {
      throw invalidField(field, "must be one of your images that finished processing");
    }
  }

  async links(mediaId: string): Promise<MediaRef | null> {
    const m = await this.deps.store.media.getMedia(mediaId);
    if (!m || m.status !== "ready") return null;
    const ref: MediaRef = { id: m.id, url: await this.deps.signer.sign(m.id, "main") };
    if (m.thumbnail) ref.thumbnailUrl = await this.deps.signer.sign(m.id, "thumb");
    return ref;
  }

  /**
   * Opens a variant for a signed link: 403 when the signature is wrong or expired, 404 when the item
   * or variant is not there (not ready, released, or its owner's key was destroyed).
   */
  async download(
    mediaId: string,
    variant: LinkVariant,
    link: { exp: string; sig: string },
  ): Promise<Download> {
    if (!(await this.deps.signer.verify(mediaId, variant, link.exp, link.sig))) {
      throw forbidden("This media link is invalid or has expired");
    }
    const m = await this.deps.store.media.getMedia(mediaId);
    if (!m || m.status !== "ready") throw notFound("Media not found");
    const key = await this.deps.dataKeys.forReading(m.keyId);
    const reader = key ? await this.deps.blobs.open(key, m.id, variant) : null;
    if (!reader) throw notFound("Media not found");
    const thumb = variant === "thumb" && m.thumbnail;
    const mime = thumb ? m.thumbnail!.mime : m.mime;
    const name = displayName(m);
    return {
      reader,
      mime,
      filename: thumb ? withExtension(`${name.replace(/\.[^.]*$/, "")}_thumb`, mime) : name,
      disposition: m.kind === "document" ? "attachment" : "inline",
      expiresAt: Number(link.exp),
    };
  }

  /** Tells the uploader's devices that an item settled (`media.updated` with a fresh view). */
  async settled(m: MediaRecord): Promise<void> {
    await this.deps.notices.notifyUser(m.ownerId, {
      event: "media.updated",
      data: await this.view(m),
    });
  }
}

/**
 * The name to show for an item: a processed image, video or audio file takes the extension of what
 * it became (a HEIC photo is served as `.jpg`); documents keep the name they were uploaded with.
 */
export function displayName(m: MediaRecord): string {
  return m.status === "ready" && m.kind !== "document"
    ? withExtension(m.filename, m.mime)
    : m.filename;
}
