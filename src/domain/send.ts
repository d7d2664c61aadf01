import { z } from "zod";
import { type FieldProblem, validationFailed } from "./errors.ts";
import { POLL_LIMITS } from "./poll.ts";
import { checkText, MESSAGE_TEXT } from "./text.ts";

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
 * A message text as clients send it: at most twice the byte limit in UTF-16 units, so gross excess
 * is refused cheaply; the exact byte count is the service's check. Scheduled sends and drafts use it
 * too.
 */
export const SendText = z.string().max(
  SEND_LIMITS.textBytes * 2,
  `must be at most ${SEND_LIMITS.textBytes / 1024} KiB of UTF-8`,
);

/** A message's attachments as clients send them. */
export const SendMediaIds = z.array(WireId).max(SEND_LIMITS.media);

/**
 * The fields of a send, as a REST body (`POST /v1/conversations/{id}/messages`) and inside a
 * `message.send` frame alike. A string is at most twice the byte limit in UTF-16 units, so the
 * schema rejects gross excess cheaply and the service checks the exact byte count.
 */
export const SendFields = z.strictObject({
  clientMsgId: ClientMsgId,
  text: SendText.optional(),
  mediaIds: SendMediaIds.optional(),
  replyTo: WireId.optional(),
  mentions: z.array(WireId).max(SEND_LIMITS.mentions).optional(),
  /** Mention everyone (`@all`): admins and up in groups, unless `membersCanMentionAll`. */
  mentionsAll: z.boolean().optional(),
  /** A poll (`kind: "poll"`): its question and options, single or multiple choice, anonymous. */
  poll: z.strictObject({
    question: z.string().max(POLL_LIMITS.question * 8),
    options: z.array(z.string().max(POLL_LIMITS.option * 8)).max(POLL_LIMITS.maxOptions * 2),
    multiple: z.boolean().optional(),
    anonymous: z.boolean().optional(),
    closesAt: z.string().max(64).optional(),
  }).optional(),
  /** A thread reply: the root message's id (in the same conversation). */
  threadId: WireId.optional(),
  /** A thread reply that is shown in the main history too. */
  alsoInConversation: z.boolean().optional(),
  /** Forward: copy the text and attachments of a message the sender can see. */
  forwardOf: z.strictObject({ conversationId: WireId, messageId: WireId }).optional(),
});

/** A send as the messages service takes it. */
export type SendInput = z.infer<typeof SendFields>;

/** A send's content after its checks: normalized text, distinct attachments and mentions. */
export interface CheckedSend {
  text?: string;
  mediaIds: string[];
  mentions: string[];
}

/**
 * Checks what a send carries, before anything is looked up: the text (graphemes, bytes, control
 * characters), at least text or media, and the attachment and mention counts. Throws 400 with every
 * problem at once.
 */
export function checkSend(
  input: Pick<SendInput, "text" | "mediaIds" | "mentions">,
  options: { content?: "required" | "none" } = {},
): CheckedSend {
  const problems: FieldProblem[] = [];
  const out: CheckedSend = {
    mediaIds: [...new Set(input.mediaIds ?? [])],
    mentions: [...new Set(input.mentions ?? [])],
  };
  if (input.text !== undefined) {
    const r = checkText(input.text, { field: "text", ...MESSAGE_TEXT });
    if (r.ok) out.text = r.text;
    else problems.push(...r.problems);
  }
  if (out.mediaIds.length > SEND_LIMITS.media) {
    problems.push({ path: "mediaIds", message: `at most ${SEND_LIMITS.media} attachments` });
  }
  if (options.content === "none" && (input.text !== undefined || out.mediaIds.length)) {
    problems.push({ path: "poll", message: "a poll carries no text or mediaIds" });
  } else if (options.content !== "none" && input.text === undefined && !out.mediaIds.length) {
    problems.push({ path: "text", message: "a message needs text or mediaIds" });
  }
  if (out.mentions.length > SEND_LIMITS.mentions) {
    problems.push({ path: "mentions", message: `at most ${SEND_LIMITS.mentions} mentions` });
  }
  if (problems.length) throw validationFailed(problems);
  return out;
}
