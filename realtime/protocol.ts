import { z } from "zod";
import { SendFields, WireId } from "../src/domain/send.ts";

const Id = WireId;
/** The client's request id; echoed in the ack. */
const RequestId = z.union([z.string().min(1).max(128), z.number().int()]).optional();

/** `{type:"auth", token, resume?}`: must be the first frame, within the auth timeout. */
export const AuthFrame = z.strictObject({
  type: z.literal("auth"),
  id: RequestId,
  token: z.string().min(1).max(4096),
  resume: z.record(Id, z.number().int().min(0)).optional()
    .refine((r) => !r || Object.keys(r).length <= 10_000, "at most 10,000 conversations"),
});

/** Every frame a client may send after `auth`, by `type`. */
export const ClientFrame = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("message.send"),
    id: RequestId,
    conversationId: Id,
    ...SendFields.shape,
  }),
  z.strictObject({
    type: z.literal("message.edit"),
    id: RequestId,
    conversationId: Id,
    messageId: Id,
    text: z.string().max(64 * 1024, "must be at most 32 KiB of UTF-8"),
  }),
  z.strictObject({
    type: z.literal("message.delete"),
    id: RequestId,
    conversationId: Id,
    messageId: Id,
    for: z.enum(["me", "everyone"]).default("me"),
  }),
  z.strictObject({
    type: z.enum(["reaction.add", "reaction.remove"]),
    id: RequestId,
    conversationId: Id,
    messageId: Id,
    emoji: z.string().min(1).max(256),
  }),
  z.strictObject({
    type: z.literal("typing"),
    id: RequestId,
    conversationId: Id,
    state: z.enum(["start", "stop"]),
  }),
  z.strictObject({
    type: z.literal("receipt"),
    id: RequestId,
    conversationId: Id,
    seq: z.number().int().min(0),
    kind: z.enum(["delivered", "read"]),
  }),
  z.strictObject({
    type: z.literal("presence"),
    id: RequestId,
    presence: z.enum(["online", "away", "dnd", "invisible"]),
  }),
  z.strictObject({ type: z.literal("ping"), id: RequestId }),
]);

export type ClientFrame = z.infer<typeof ClientFrame>;

/** The `type`s a client may send after auth. */
export const FRAME_TYPES: ReadonlySet<string> = new Set([
  "message.send",
  "message.edit",
  "message.delete",
  "reaction.add",
  "reaction.remove",
  "typing",
  "receipt",
  "presence",
  "ping",
]);

export type AuthFrame = z.infer<typeof AuthFrame>;

/** An error as acks and `error` frames carry it: a REST problem code, its detail, field errors. */
const FrameError = z.object({
  code: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/**
 * Every frame the server sends, by `type` (documentation and tests: the server builds them in
 * `connection.ts`). Event bodies are the REST shapes, described per event in docs/PROTOCOL.md.
 */
export const ServerFrames = {
  ready: z.object({
    type: z.literal("ready"),
    userId: z.string(),
    sessionId: z.string(),
    conversations: z.array(z.object({ id: z.string(), lastSeq: z.number().int() })),
    heartbeatMs: z.number().int(),
  }).describe("Authenticated: the head of each of your conversations"),
  ack: z.union([
    z.object({
      type: z.literal("ack"),
      id: z.union([z.string(), z.number().int()]),
      ok: z.literal(true),
      message: z.record(z.string(), z.unknown()).optional()
        .describe("message.send / message.edit: the stored message (the REST Message)"),
      reactions: z.array(z.object({ emoji: z.string(), count: z.number().int(), me: z.boolean() }))
        .optional().describe("reaction.add / reaction.remove: the message's reactions"),
      serverTime: z.string().optional().describe("ping: the server's clock"),
    }),
    z.object({
      type: z.literal("ack"),
      id: z.union([z.string(), z.number().int()]),
      ok: z.literal(false),
      error: FrameError,
    }),
  ]).describe("The one answer to a client frame that carried an id"),
  error: z.object({ type: z.literal("error"), error: FrameError })
    .describe("A problem with a frame that had no id"),
  event: z.object({
    type: z.literal("event"),
    event: z.string().describe("The event name (message.created, typing, presence…)"),
    conversationId: z.string().optional(),
    seq: z.number().int().optional().describe("Durable events only: their place in the log"),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.string().optional(),
  }).describe("Something happened; durable events carry seq"),
  gap: z.object({
    type: z.literal("gap"),
    conversationId: z.string(),
    fromSeq: z.number().int(),
    toSeq: z.number().int(),
  }).describe("Too much was missed to replay: page through GET /v1/conversations/:id/events"),
} as const;

/** WebSocket close codes Parley uses (4000-4999 are application codes). */
export const CloseCode = {
  /** Server restarting (graceful shutdown): reconnect and resume. */
  restarting: 1012,
  /** Auth missing, timed out, invalid, or the session was revoked. */
  unauthorized: 4001,
  /** Flood of frames that are not JSON. */
  notJson: 4002,
  /** The connection could not keep up (send buffer over its limit): reconnect and resume. */
  slowConsumer: 4008,
  /** Kept sending over the frame rate limit. */
  rateLimited: 4029,
} as const;

/** The `id` of a frame that failed validation, if one can be recovered, so the error can be acked. */
export function recoverId(raw: unknown): string | number | undefined {
  if (raw && typeof raw === "object" && "id" in raw) {
    const id = (raw as { id: unknown }).id;
    if ((typeof id === "string" && id.length > 0 && id.length <= 128) || Number.isInteger(id)) {
      return id as string | number;
    }
  }
  return undefined;
}

/**
 * The `id` of a frame that is refused before it is handled (too large, over the rate limit), so it
 * still gets its one ack: read from the parsed frame, whatever its size (it is already in memory;
 * the transport caps it), its `id`'s type or escapes, or where the key sits. Not JSON: none.
 */
export function frameId(text: string): string | number | undefined {
  try {
    return recoverId(JSON.parse(text));
  } catch {
    return undefined;
  }
}
