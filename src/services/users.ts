import { decodeCursor, encodeCursor, isString } from "../domain/cursor.ts";
import { conflict, invalidField, notFound } from "../domain/errors.ts";
import { checkDisplayName, checkStatusText, checkUsername } from "../domain/profile.ts";
import type { Presence, User } from "../domain/types.ts";
import type { Store, UserPatch } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Actor } from "../domain/actor.ts";
import type { PresenceService } from "./presence.ts";

/** A media reference as clients see it, with signed links. */
export interface MediaRef {
  id: string;
  url: string;
  thumbnailUrl?: string;
}

/** Resolves avatars: checks a media id may be used as one and signs its links. */
export interface AvatarResolver {
  /** Throws 400 when `mediaId` is not a ready image owned by `userId`. */
  checkUsable(userId: string, mediaId: string, field: string): Promise<void>;
  /** Signed links for an avatar, or null when the media is gone. */
  links(mediaId: string): Promise<MediaRef | null>;
}

/** The caller's own profile. */
export interface MeView {
  id: string;
  username: string;
  displayName: string;
  role: User["role"];
  avatar?: MediaRef;
  statusText?: string;
  presence: Presence;
  lastSeenAt?: string;
  privacy: User["privacy"];
  createdAt: string;
}

/** Another user's profile as the viewer may see it. */
export interface PublicUserView {
  id: string;
  username: string;
  displayName: string;
  avatar?: MediaRef;
  statusText?: string;
  /** Absent when the user blocks the viewer. */
  presence?: "online" | "away" | "dnd" | "offline";
  lastSeenAt?: string;
  deleted?: true;
}

/** A profile update as the API accepts it. */
export interface ProfilePatch {
  username?: string;
  displayName?: string;
  avatarMediaId?: string | null;
  statusText?: string | null;
  presence?: Presence;
  privacy?: Partial<User["privacy"]>;
}

/** Profiles: one's own, others' (with presence and last-seen privacy applied), and search. */
export class UsersService {
  constructor(
    private readonly deps: {
      store: Pick<Store, "accounts" | "moderation">;
      presence: PresenceService;
      avatars: AvatarResolver;
      audit: AuditLog;
    },
  ) {}

  async me(actor: Actor): Promise<MeView> {
    const user = await this.deps.store.accounts.getUser(actor.userId);
    if (!user || user.deletedAt) throw notFound("User not found");
    return await this.meView(user);
  }

  async meView(user: User): Promise<MeView> {
    const avatar = user.avatarMediaId ? await this.deps.avatars.links(user.avatarMediaId) : null;
    return omitNullish({
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      avatar: avatar ?? undefined,
      statusText: user.statusText ?? undefined,
      presence: user.presence,
      lastSeenAt: user.lastSeenAt ?? undefined,
      privacy: user.privacy,
      createdAt: user.createdAt,
    });
  }

  /** Updates the caller's profile; 409 when the new username is taken. */
  async updateMe(actor: Actor, patch: ProfilePatch): Promise<MeView> {
    const before = await this.deps.store.accounts.getUser(actor.userId);
    if (!before || before.deletedAt) throw notFound("User not found");
    const change: UserPatch = {};
    if (patch.username !== undefined) change.username = checkUsername(patch.username);
    if (patch.displayName !== undefined) change.displayName = checkDisplayName(patch.displayName);
    if (patch.statusText !== undefined) change.statusText = checkStatusText(patch.statusText);
    if (patch.presence !== undefined) change.presence = patch.presence;
    if (patch.privacy?.lastSeen !== undefined) change.privacyLastSeen = patch.privacy.lastSeen;
    if (patch.privacy?.readReceipts !== undefined) {
      change.privacyReadReceipts = patch.privacy.readReceipts;
    }
    if (patch.privacy?.directMessages !== undefined) {
      change.privacyDirectMessages = patch.privacy.directMessages;
    }
    if (patch.privacy?.groupAdds !== undefined) change.privacyGroupAdds = patch.privacy.groupAdds;
    if (patch.avatarMediaId !== undefined) {
      if (patch.avatarMediaId !== null) {
        await this.deps.avatars.checkUsable(actor.userId, patch.avatarMediaId, "avatarMediaId");
      }
      change.avatarMediaId = patch.avatarMediaId;
    }
    const updated = await this.deps.store.accounts.updateUser(actor.userId, change);
    if (updated.status === "username_taken") throw conflict("That username is taken");
    if (updated.status === "missing") throw notFound("User not found");
    const { user } = updated;
    if (change.username && change.username !== before.username) {
      await this.deps.audit.record({
        action: "user.username_changed",
        actorId: actor.userId,
        targetId: actor.userId,
      });
    }
    if (user.presence !== before.presence || user.privacy.lastSeen !== before.privacy.lastSeen) {
      await this.deps.presence.changed(user);
    }
    return await this.meView(user);
  }

  /** Another user's public profile; 404 for unknown ids. Erased accounts show as "Deleted account". */
  async get(viewerId: string, userId: string): Promise<PublicUserView> {
    const user = await this.deps.store.accounts.getUser(userId);
    if (!user) throw notFound("User not found");
    return await this.publicView(viewerId, user);
  }

  async publicView(viewerId: string, user: User): Promise<PublicUserView> {
    if (user.deletedAt) {
      return {
        id: user.id,
        username: "deleted",
        displayName: "Deleted account",
        presence: "offline",
        deleted: true,
      };
    }
    if (viewerId !== user.id) {
      const { blockedBy } = await this.deps.store.moderation.blocksBetween(viewerId, [user.id]);
      // Someone who blocks the viewer shows them no presence, last seen, avatar or status.
      if (blockedBy.size > 0) {
        return { id: user.id, username: user.username, displayName: user.displayName };
      }
    }
    const [status, avatar] = await Promise.all([
      this.deps.presence.visibleTo(viewerId, user),
      user.avatarMediaId ? this.deps.avatars.links(user.avatarMediaId) : null,
    ]);
    return omitNullish({
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      avatar: avatar ?? undefined,
      statusText: user.statusText ?? undefined,
      presence: status.presence,
      lastSeenAt: status.lastSeenAt,
    });
  }

  /** Users whose username or display name starts with `q`, by username, cursor-paginated. */
  async search(
    viewerId: string,
    q: string,
    limit: number,
    cursor?: string,
  ): Promise<{ users: PublicUserView[]; nextCursor?: string }> {
    const prefix = q.normalize("NFKC").toLowerCase().trim();
    if (prefix.length === 0) throw invalidField("q", "must not be empty");
    const after = cursor ? decodeCursor(cursor, isString) : undefined;
    const found = await this.deps.store.accounts.searchUsers(prefix, {
      limit: limit + 1,
      afterUsername: after,
    });
    const page = found.slice(0, limit);
    const users = await Promise.all(page.map((u) => this.publicView(viewerId, u)));
    return found.length > limit
      ? { users, nextCursor: encodeCursor(page.at(-1)!.username) }
      : { users };
  }
}

/** Drops `undefined` fields so optional members are absent, not null, on the wire. */
export function omitNullish<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}
