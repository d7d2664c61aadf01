import type { Actor } from "../src/domain/actor.ts";
import type { Services } from "../src/services/mod.ts";
import type { ClientFrame } from "./protocol.ts";

/**
 * Carries out one validated client frame for `actor` with one service call, and returns the ack's
 * payload. Errors are the service's own (the connection turns them into an error ack).
 */
export async function dispatchFrame(
  s: Services,
  actor: Actor,
  frame: ClientFrame,
): Promise<Record<string, unknown>> {
  switch (frame.type) {
    case "message.send": {
      const { message } = await s.messages.send(actor, frame.conversationId, frame);
      return { message };
    }
    case "message.edit":
      return {
        message: await s.messages.edit(actor, frame.conversationId, frame.messageId, frame.text),
      };
    case "message.delete":
      await s.messages.delete(actor, frame.conversationId, frame.messageId, frame.for);
      return {};
    case "reaction.add":
    case "reaction.remove":
      return {
        reactions: await s.messages.react(
          actor,
          frame.conversationId,
          frame.messageId,
          frame.emoji,
          frame.type === "reaction.add",
        ),
      };
    case "typing":
      await s.typing.typing(actor, frame.conversationId, frame.state);
      return {};
    case "receipt":
      await s.receipts.mark(actor, frame.conversationId, frame.seq, frame.kind);
      return {};
    case "presence":
      await s.users.updateMe(actor, { presence: frame.presence });
      return {};
    case "ping":
      return { serverTime: new Date().toISOString() };
  }
}
