import type { Actor } from "../domain/actor.ts";
import { conflict, forbidden, notFound } from "../domain/errors.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import { commitChange, expectRole, requirePermission } from "./_conversation_changes.ts";
import type { ConversationsService } from "./conversations.ts";
import type { EventLog } from "./events.ts";
import { messageFor, type MessageRenderer, type PublicMessage } from "./render.ts";

/** At most this many pinned messages per conversation. */
export const MAX_PINS = 50;

/** A pinned message as members see it. */
export interface PinView {
  message: PublicMessage;
  pinnedBy: string;
  pinnedAt: string;
}

/**
 * Pinned messages: moderators and up pin in groups, either member in a direct conversation; at
 * most {@link MAX_PINS} per conversation. Each change is a durable `pin.updated` event with a system
 * message, committed with the pin; pinning twice or unpinning what is not pinned changes nothing.
 */
export class PinsService {
  constructor(
    private readonly deps: {
      store: Pick<Store, "messages">;
      conversations: ConversationsService;
      events: EventLog;
      renderer: MessageRenderer;
    },
  ) {}

  /** Pins (`pinned: true`) or unpins a message of the conversation. */
  async setPinned(
    actor: Actor,
    conversationId: string,
    messageId: string,
    pinned: boolean,
  ): Promise<void> {
    const { conversation, member } = await this.deps.conversations.membership(
      actor,
      conversationId,
    );
    if (conversation.type === "group") {
      requirePermission(member.role, "pin", null, conversation.settings);
    }
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m) throw notFound("Message not found");
    if (pinned && m.deletedAt) throw conflict("The message was deleted");
    if (pinned && m.kind === "system") throw forbidden("System messages cannot be pinned");
    const at = nowIso();
    await commitChange(this.deps, {
      conversationId,
      actorId: actor.userId,
      event: "pin.updated",
      mutations: [
        pinned
          ? { op: "pinMessage", messageId, userId: actor.userId, at }
          : { op: "unpinMessage", messageId },
      ],
      data: { messageId, pinned, by: actor.userId },
      system: {
        action: pinned ? "message.pinned" : "message.unpinned",
        actorId: actor.userId,
        messageId,
      },
      expect: [
        expectRole(actor.userId, member.role),
        ...(pinned
          ? [{
            kind: "pinLimit" as const,
            max: MAX_PINS,
            error: conflict(`A conversation has at most ${MAX_PINS} pinned messages`),
          }]
          : []),
      ],
    });
  }

  /** The conversation's pinned messages, newest pin first (ones the caller hid are left out). */
  async list(actor: Actor, conversationId: string): Promise<PinView[]> {
    await this.deps.conversations.membership(actor, conversationId);
    const pins = await this.deps.store.messages.listPins(conversationId);
    const records = await Promise.all(
      pins.map((p) => this.deps.store.messages.getMessage(conversationId, p.messageId)),
    );
    const hidden = await this.deps.store.messages.hiddenMessageIds(
      actor.userId,
      pins.map((p) => p.messageId),
    );
    const live = records.filter((r) => r && !r.deletedAt && !hidden.has(r.id)).map((r) => r!);
    const viewer = await this.deps.renderer.viewer(actor.userId);
    const views = new Map(
      (await this.deps.renderer.render(live)).map((v) => [v.id, messageFor(v, viewer)]),
    );
    return pins.filter((p) => views.has(p.messageId)).map((p) => ({
      message: views.get(p.messageId)!,
      pinnedBy: p.pinnedBy,
      pinnedAt: p.pinnedAt,
    }));
  }
}
