import type { MediaPatch, MediaRecord, MediaStatus } from "../../domain/media.ts";
import type { MediaStore } from "../media.ts";
import { type Mongo, partialEq } from "./_db.ts";
import type { MediaDoc } from "./schema.ts";

function toDoc(m: MediaRecord): MediaDoc {
  const { id, ...rest } = m;
  return { _id: id, ...rest };
}

function toMedia(d: MediaDoc): MediaRecord {
  const { _id, ...rest } = d;
  return { id: _id, ...rest };
}

async function createMedia(m: Mongo, record: MediaRecord): Promise<void> {
  await m.media.insertOne(toDoc(record));
}

async function getMedia(m: Mongo, id: string): Promise<MediaRecord | null> {
  const d = await m.media.findOne({ _id: id });
  return d ? toMedia(d) : null;
}

async function getMediaMany(m: Mongo, ids: string[]): Promise<MediaRecord[]> {
  if (ids.length === 0) return [];
  return (await m.media.find({ _id: { $in: ids } }).toArray()).map(toMedia);
}

/** Applies `patch` in one atomic update, only while the status is `whenStatus` when given. */
async function updateMedia(
  m: Mongo,
  id: string,
  patch: MediaPatch,
  whenStatus: MediaStatus | undefined,
): Promise<MediaRecord | null> {
  const filter = whenStatus ? { _id: id, status: whenStatus } : { _id: id };
  const d = await m.media.findOneAndUpdate(filter, { $set: patch }, { returnDocument: "after" });
  return d ? toMedia(d) : null;
}

async function listMediaByStatus(
  m: Mongo,
  status: MediaStatus,
  options: { limit: number; afterId?: string },
): Promise<MediaRecord[]> {
  return (await m.media.find({ status, _id: { $gt: options.afterId ?? "" } }).sort({ _id: 1 })
    .limit(options.limit).toArray()).map(toMedia);
}

async function deleteMedia(m: Mongo, id: string): Promise<boolean> {
  return (await m.media.deleteOne({ _id: id })).deletedCount > 0;
}

async function isAvatar(m: Mongo, mediaId: string): Promise<boolean> {
  const [user, group] = await Promise.all([
    m.users.findOne({ avatarMediaId: partialEq(mediaId), deletedAt: null }, {
      projection: { _id: 1 },
    }),
    m.conversations.findOne({ avatarMediaId: partialEq(mediaId), deletedAt: null }, {
      projection: { _id: 1 },
    }),
  ]);
  return !!user || !!group;
}

/** The uploader, members of a conversation where a live message carries it, or anyone for avatars. */
async function canSeeMedia(m: Mongo, userId: string, mediaId: string): Promise<boolean> {
  const media = await m.media.findOne({ _id: mediaId }, { projection: { ownerId: 1 } });
  if (media?.ownerId === userId) return true;
  const conversations = await m.messages.distinct("conversationId", { mediaIds: mediaId });
  if (conversations.length > 0) {
    const member = await m.members.findOne(
      { conversationId: { $in: conversations }, userId },
      { projection: { _id: 1 } },
    );
    if (member) return true;
  }
  return await isAvatar(m, mediaId);
}

/** Whether a live message, a user's avatar or a live group's avatar uses the media. */
async function isMediaReferenced(m: Mongo, mediaId: string): Promise<boolean> {
  const message = await m.messages.findOne({ mediaIds: mediaId }, { projection: { _id: 1 } });
  if (message) return true;
  const held = await m.heldMessages.findOne({ mediaIds: mediaId }, { projection: { _id: 1 } });
  return !!held || await isAvatar(m, mediaId);
}

/**
 * The MongoDB {@link MediaStore}: media records, their processing claims (one atomic
 * `findOneAndUpdate` each) and who may see them.
 */
export class MongoMedia implements MediaStore {
  constructor(private readonly m: Mongo) {}

  createMedia(record: MediaRecord) {
    return createMedia(this.m, record);
  }
  getMedia(id: string) {
    return getMedia(this.m, id);
  }
  getMediaMany(ids: string[]) {
    return getMediaMany(this.m, ids);
  }
  updateMedia(id: string, patch: MediaPatch, options: { whenStatus?: MediaStatus } = {}) {
    return updateMedia(this.m, id, patch, options.whenStatus);
  }
  listMediaByStatus(status: MediaStatus, options: { limit: number; afterId?: string }) {
    return listMediaByStatus(this.m, status, options);
  }
  deleteMedia(id: string) {
    return deleteMedia(this.m, id);
  }
  canSeeMedia(userId: string, mediaId: string) {
    return canSeeMedia(this.m, userId, mediaId);
  }
  isMediaReferenced(mediaId: string) {
    return isMediaReferenced(this.m, mediaId);
  }
}
