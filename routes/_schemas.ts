import { z } from "@hono/zod-openapi";

export const Iso = z.string().openapi({ example: "2026-11-24T10:00:00.000Z", format: "date-time" });

export const MediaRefSchema = z.object({
  id: z.string(),
  url: z.string(),
  thumbnailUrl: z.string().optional(),
}).openapi("MediaRef");

/** A media reference or `null` (as `anyOf`, which `null` satisfies, unlike a nullable `$ref`). */
export const NullableMediaRef = z.union([MediaRefSchema, z.null()]);

export const PrivacySchema = z.object({
  lastSeen: z.enum(["everyone", "contacts", "nobody"]),
  readReceipts: z.boolean().openapi({
    description: "False: others see no readAt of yours and get no read receipts from you; " +
      "you see no readAt of others",
  }),
  directMessages: z.enum(["everyone", "contacts", "nobody"]).openapi({
    description: "Who may open a direct conversation with you (contacts: people you already " +
      "share a conversation with); others get 403 `forbidden`",
  }),
  groupAdds: z.enum(["everyone", "contacts", "nobody"]).openapi({
    description: "Who may add you to a group; anyone else's add becomes an invitation",
  }),
}).openapi("Privacy");

export const MeSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(["user", "admin"]),
  avatar: MediaRefSchema.optional(),
  statusText: z.string().optional(),
  presence: z.enum(["online", "away", "dnd", "invisible"]),
  lastSeenAt: Iso.optional(),
  privacy: PrivacySchema,
  createdAt: Iso,
}).openapi("Me");

export const PublicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  avatar: MediaRefSchema.optional(),
  statusText: z.string().optional(),
  presence: z.enum(["online", "away", "dnd", "offline"]).optional().openapi({
    description: "Absent when this user blocks you",
  }),
  lastSeenAt: Iso.optional(),
  deleted: z.literal(true).optional(),
}).openapi("PublicUser");

export const AuthResultSchema = z.object({
  user: MeSchema,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
}).openapi("AuthResult");

export const SessionSchema = z.object({
  id: z.string(),
  deviceName: z.string().nullable(),
  createdAt: Iso,
  lastSeenAt: Iso,
  current: z.boolean(),
}).openapi("Session");

/** A media item: uploads, and each attachment of a message. */
export const MediaSchema = z.object({
  id: z.string(),
  kind: z.enum(["image", "video", "audio", "document"]),
  mime: z.string().openapi({ description: "Type of the file `url` serves (once ready)" }),
  size: z.number().int().openapi({ description: "Bytes of the file `url` serves (once ready)" }),
  filename: z.string(),
  status: z.enum(["processing", "ready", "failed"]),
  url: z.string().openapi({
    description: "Signed, expiring download link (absolute when PUBLIC_URL is set, else " +
      "relative to the API origin); no Authorization needed; supports Range",
  }),
  thumbnailUrl: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  durationMs: z.number().int().optional(),
  waveform: z.array(z.number()).optional().openapi({
    description: "Audio: 64 loudness peaks in 0..1",
  }),
  pageCount: z.number().int().optional(),
  animated: z.literal(true).optional().openapi({
    description: "An animated GIF delivered as a silent MP4 to loop",
  }),
  failureReason: z.string().optional(),
  createdAt: Iso,
}).openapi("Media");

/** What anyone signed in sees of a group before joining it (invitations, invite links, discovery). */
export const GroupPreview = z.object({
  id: z.string(),
  name: z.string().nullable(),
  description: z.string().optional(),
  avatar: NullableMediaRef,
  memberCount: z.number().int(),
}).openapi("GroupPreview");
