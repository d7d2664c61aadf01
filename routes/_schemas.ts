import { z } from "@hono/zod-openapi";

export const Iso = z.string().openapi({ example: "2026-11-24T10:00:00.000Z", format: "date-time" });

export const MediaRefSchema = z.object({
  id: z.string(),
  url: z.string(),
  thumbnailUrl: z.string().optional(),
}).openapi("MediaRef");

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
