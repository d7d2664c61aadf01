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

/** WebSocket close codes Parley uses (4000-4999 are application codes). */
export const CloseCode = {
  /** Server restarting (graceful shutdown): reconnect and resume. */
  restarting: 1012,
  /** A frame over the size limit when it cannot even be answered. */
  tooBig: 1009,
  /** Auth missing, timed out, invalid, or the session was revoked. */
  unauthorized: 4001,
  /** Flood of frames that are not JSON. */
  notJson: 4002,
  /** The connection could not keep up (send buffer over its limit): reconnect and resume. */
  slowConsumer: 4008,
  /** Kept sending over the frame rate limit. */
  rateLimited: 4029,
  /** Missed heartbeats. */
  heartbeat: 4000,
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

/** Best-effort `id` of a frame too large to parse, from its first bytes. */
export function sniffId(text: string): string | undefined {
  const m = /"id"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 512));
  return m?.[1];
}
