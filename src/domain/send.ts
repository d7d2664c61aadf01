import { z } from "zod";
import { MESSAGE_TEXT } from "./text.ts";

/** How much one message may carry; the REST route, the socket frame and the service share them. */
export const SEND_LIMITS = {
  /** Attachments per message. */
  media: 10,
  /** Mentioned users per message. */
  mentions: 50,
  /** Text, in UTF-8 bytes (checked exactly by the service; the schema bounds the raw string). */
  textBytes: MESSAGE_TEXT.maxBytes ?? 32 * 1024,
} as const;

/** An id as clients send it (users, conversations, messages, media). */
export const WireId = z.string().min(1).max(64);

/** A clientMsgId: the client's idempotency key for a send (a UUID is ideal). */
export const ClientMsgId = z.string().min(1).max(128).regex(
  /^[\x21-\x7e]+$/,
  "printable ASCII, no spaces",
);

/**
 * The fields of a send, as a REST body (`POST /v1/conversations/{id}/messages`) and inside a
 * `message.send` frame alike. A string is at most twice the byte limit in UTF-16 units, so the
 * schema rejects gross excess cheaply and the service checks the exact byte count.
 */
export const SendFields = z.strictObject({
  clientMsgId: ClientMsgId,
  text: z.string().max(
    SEND_LIMITS.textBytes * 2,
    `must be at most ${SEND_LIMITS.textBytes / 1024} KiB of UTF-8`,
  ).optional(),
  mediaIds: z.array(WireId).max(SEND_LIMITS.media).optional(),
  replyTo: WireId.optional(),
  mentions: z.array(WireId).max(SEND_LIMITS.mentions).optional(),
});

/** A send as the messages service takes it. */
export type SendInput = z.infer<typeof SendFields>;
