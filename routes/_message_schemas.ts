import { z } from "@hono/zod-openapi";
import { Iso, MediaSchema, NullableMediaRef } from "./_schemas.ts";
import { BLOCKED_WORDS, MESSAGE_TTL_SECONDS, SLOW_MODE_SECONDS } from "../src/domain/types.ts";

export const ReactionSchema = z.object({
  emoji: z.string(),
  count: z.number().int(),
  me: z.boolean(),
}).openapi("Reaction");

export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  seq: z.number().int(),
  senderId: z.string().nullable(),
  clientMsgId: z.string().nullable(),
  kind: z.enum(["text", "media", "system", "poll"]),
  text: z.string().optional(),
  media: z.array(MediaSchema),
  replyTo: z.string().optional(),
  mentions: z.array(z.string()),
  reactions: z.array(ReactionSchema),
  system: z.object({
    action: z.string(),
    actorId: z.string().nullable(),
    userIds: z.array(z.string()).optional(),
    role: z.string().optional(),
    changes: z.array(z.string()).optional(),
  }).optional().openapi({ description: "For kind system: who did what to whom" }),
  editedAt: Iso.optional(),
  deletedAt: Iso.optional(),
  createdAt: Iso,
  mentionsAll: z.boolean().optional().openapi({ description: "Mentions everyone (@all)" }),
  poll: z.object({
    question: z.string(),
    options: z.array(z.object({
      id: z.string(),
      text: z.string(),
      votes: z.number().int(),
      voterIds: z.array(z.string()).optional().openapi({
        description: "Who chose it; absent for anonymous polls",
      }),
    })),
    multiple: z.boolean(),
    anonymous: z.boolean(),
    closesAt: Iso.optional(),
    closed: z.boolean(),
    myVotes: z.array(z.string()),
  }).optional().openapi({ description: "For kind poll" }),
  forwarded: z.object({ originalSenderId: z.string().optional(), originalCreatedAt: Iso })
    .optional().openapi({ description: "A forwarded copy: who first sent it and when" }),
  expiresAt: Iso.optional().openapi({
    description: "A disappearing message: when it is deleted for everyone",
  }),
  threadId: z.string().optional().openapi({ description: "A thread reply: its root message" }),
  alsoInConversation: z.boolean().optional().openapi({
    description: "A thread reply that is shown in the main history too",
  }),
  thread: z.object({
    replyCount: z.number().int(),
    lastReplyAt: Iso,
    participantIds: z.array(z.string()).openapi({ description: "Repliers, first reply first" }),
  }).optional().openapi({ description: "A thread's root: its replies so far" }),
}).openapi("Message");

export const SettingsSchema = z.object({
  onlyAdminsCanSend: z.boolean(),
  onlyAdminsCanEditInfo: z.boolean(),
  membersCanAddMembers: z.boolean(),
  messageTtlSeconds: z.number().int().min(MESSAGE_TTL_SECONDS.min).max(MESSAGE_TTL_SECONDS.max)
    .nullable().openapi({
      description: "Disappearing messages: messages sent while set are deleted for everyone " +
        "this many seconds after they were sent (null: off). Set by admins in groups, by either " +
        "member in a direct conversation.",
    }),
  membersCanMentionAll: z.boolean().openapi({
    description: "Members (not only admins) may mention everyone with mentionsAll",
  }),
  slowModeSeconds: z.number().int().min(SLOW_MODE_SECONDS.min).max(SLOW_MODE_SECONDS.max)
    .openapi({
      description: "Slow mode: members below moderator may send once per this many seconds " +
        "(0: off); a send too soon is 429 `slow_mode` with `Retry-After`",
    }),
  blockedWords: z.array(z.string().min(1).max(BLOCKED_WORDS.maxLength)).max(BLOCKED_WORDS.max)
    .openapi({
      description: "Words and phrases no message here may contain (case- and accent-" +
        "insensitive, whole words): 422 `content_blocked`",
    }),
  public: z.boolean().openapi({
    description: "Listed by GET /v1/conversations/discover and joinable by anyone " +
      "(POST /v1/conversations/{id}/join)",
  }),
}).openapi("GroupSettings");

export const ConversationSchema = z.object({
  id: z.string(),
  type: z.enum(["direct", "group"]),
  name: z.string().nullable(),
  description: z.string().nullable(),
  avatar: NullableMediaRef,
  memberCount: z.number().int(),
  myRole: z.enum(["owner", "admin", "moderator", "member"]),
  lastMessage: MessageSchema.optional(),
  lastSeq: z.number().int(),
  unreadCount: z.number().int(),
  unreadMentionCount: z.number().int().openapi({
    description: "Unread messages that mention you by name or mention everyone",
  }),
  muted: z.boolean(),
  mutedUntil: Iso.optional(),
  notify: z.enum(["all", "mentions", "none"]).openapi({
    description: "What reaches you by push (your choice, or the default for this conversation)",
  }),
  archived: z.boolean(),
  settings: SettingsSchema,
  retentionDays: z.number().int().optional(),
  peer: z.object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    deleted: z.literal(true).optional(),
  }).optional().openapi({ description: "Direct conversations: the other participant" }),
  createdAt: Iso,
  updatedAt: Iso,
  invited: z.array(z.string()).optional().openapi({
    description: "On creation: members whose privacy.groupAdds made them invited, not added",
  }),
}).openapi("Conversation");

export const MemberSchema = z.object({
  userId: z.string(),
  role: z.enum(["owner", "admin", "moderator", "member"]),
  joinedAt: Iso,
  mutedUntil: Iso.optional().openapi({
    description: "A moderator muted this member: no sends until then",
  }),
  user: z.object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    deleted: z.literal(true).optional(),
  }),
}).openapi("Member");

const Role = z.enum(["owner", "admin", "moderator", "member"]);
const MemberRole = z.object({ userId: z.string(), role: Role });

/** One durable event of a conversation's log, with its `data` as named by `event`. */
function eventOf<N extends string, D extends z.ZodType>(event: N, data: D) {
  return z.object({
    seq: z.number().int(),
    event: z.literal(event),
    conversationId: z.string(),
    data,
    createdAt: Iso,
  }).openapi(`Event_${event.replace(".", "_")}`);
}

/** Group changes carry the system message recorded at the same seq. */
const withSystemMessage = { message: MessageSchema.optional() };

/** A durable event: a discriminated union on `event` (docs/PROTOCOL.md describes each). */
export const EventSchema = z.discriminatedUnion("event", [
  eventOf("message.created", MessageSchema),
  eventOf("message.updated", MessageSchema),
  eventOf("message.deleted", MessageSchema),
  eventOf(
    "reaction.updated",
    z.object({
      messageId: z.string(),
      userId: z.string(),
      emoji: z.string(),
      action: z.enum(["added", "removed"]),
      reactions: z.array(ReactionSchema),
    }),
  ),
  eventOf(
    "conversation.created",
    z.object({
      type: z.enum(["direct", "group"]),
      name: z.string().optional(),
      members: z.array(MemberRole),
      ...withSystemMessage,
    }),
  ),
  eventOf(
    "conversation.updated",
    z.object({
      actorId: z.string(),
      changes: z.object({
        name: z.string().optional(),
        description: z.string().nullable().optional(),
        avatarMediaId: z.string().nullable().optional(),
        settings: SettingsSchema.optional(),
        retentionDays: z.number().int().nullable().optional(),
      }),
      ...withSystemMessage,
    }),
  ),
  eventOf(
    "conversation.deleted",
    z.object({ actorId: z.string(), reason: z.string().optional(), ...withSystemMessage }),
  ),
  eventOf(
    "member.added",
    z.object({
      actorId: z.string(),
      members: z.array(MemberRole.extend({ joinedAt: Iso })),
      via: z.enum(["invitation", "link", "public"]).optional(),
      invitedBy: z.string().optional(),
      ...withSystemMessage,
    }),
  ),
  eventOf(
    "member.removed",
    z.object({
      actorId: z.string(),
      userId: z.string(),
      reason: z.enum(["removed", "left", "account_deleted", "banned"]),
      members: z.array(MemberRole).optional(),
      ...withSystemMessage,
    }),
  ),
  eventOf(
    "member.updated",
    z.object({
      actorId: z.string(),
      members: z.array(MemberRole.extend({ mutedUntil: Iso.nullable().optional() })),
      ...withSystemMessage,
    }),
  ),
  eventOf(
    "pin.updated",
    z.object({
      messageId: z.string(),
      pinned: z.boolean(),
      by: z.string(),
      ...withSystemMessage,
    }),
  ),
]).openapi("ConversationEvent");
