import type { Actor } from "../domain/actor.ts";
import { conflict, invalidField, notFound } from "../domain/errors.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";
import type { EventLog } from "./events.ts";
import { messageFor, type MessageRenderer, pollClosed, type PublicMessage } from "./render.ts";
import type { UserData } from "./user_data.ts";

/**
 * Voting on polls: a vote replaces the caller's votes (an empty list withdraws them), one option
 * unless the poll is multiple choice, refused once the poll closed (409). Each change is a durable
 * `message.updated` carrying the poll as each member sees it (their own `myVotes`; voters only when
 * the poll is not anonymous). A user's votes are in their export and go with their account.
 */
export class PollsService implements UserData {
  readonly exportPath = "votes.jsonl";
  readonly exportDescription = "your votes on polls: poll message id, the options you chose, when";

  constructor(
    private readonly deps: {
      store: Pick<Store, "messages">;
      conversations: ConversationsService;
      events: EventLog;
      renderer: MessageRenderer;
    },
  ) {}

  /** Replaces the caller's votes on a poll; returns the poll message as they see it. */
  async vote(
    actor: Actor,
    conversationId: string,
    messageId: string,
    optionIds: string[],
  ): Promise<PublicMessage> {
    await this.deps.conversations.membership(actor, conversationId);
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m) throw notFound("Message not found");
    if (m.kind !== "poll" || !m.poll) throw invalidField("messageId", "the message is not a poll");
    if (m.deletedAt) throw conflict("The poll was deleted");
    if (pollClosed(m.poll)) throw conflict("The poll is closed");
    const chosen = [...new Set(optionIds)];
    if (!m.poll.multiple && chosen.length > 1) {
      throw invalidField("optionIds", "a single-choice poll takes one option");
    }
    const [current] = await this.deps.renderer.render([m]);
    const known = new Set(current.poll?.options.map((o) => o.id));
    const unknown = chosen.filter((id) => !known.has(id));
    if (unknown.length) throw invalidField("optionIds", `no such options: ${unknown.join(", ")}`);
    const result = await this.deps.events.commit({
      conversationId,
      event: "message.updated",
      actorId: actor.userId,
      messageId,
      at: nowIso(),
      expect: [{ kind: "member", userId: actor.userId, error: notFound("Conversation not found") }],
      mutations: [{
        op: "setVotes",
        messageId,
        userId: actor.userId,
        optionIds: chosen,
        at: nowIso(),
      }],
    });
    const view = result.status === "committed" ? result.view! : current;
    return messageFor(view, actor.userId);
  }

  /** Every vote of a user, for their export. */
  async exportUser(userId: string): Promise<unknown[]> {
    return await this.deps.store.messages.listUserVotes(userId);
  }

  /** A user's votes go at the end of their erasure, with their other remaining data. */
  eraseUser(): Promise<number> {
    return Promise.resolve(0);
  }
}
