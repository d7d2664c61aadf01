import { conversationChannel, type Publisher, userChannel } from "./publisher.ts";

/** An event that is not part of a conversation's log: shown to clients, never stored. */
export interface Notice {
  event: string;
  conversationId?: string;
  data: object;
}

/**
 * Ephemeral events: to every device of one user (`notifyUser`: a message hidden for them, media or
 * an export that settled, a contact's presence), or to whoever of a conversation is online now
 * (`notifyConversation`: typing, receipts). Durable events go through `EventLog.commit` instead.
 * Both are at most once: a client that was away learns the state from the REST API.
 */
export class Notices {
  constructor(private readonly publisher: Publisher) {}

  /** Sends `notice` to every socket of `userId`, on every instance. */
  async notifyUser(userId: string, notice: Notice): Promise<void> {
    await this.publisher.publish(userChannel(userId), { kind: "event" }, notice);
  }

  /** Sends `notice` to the members of `conversationId` online now, except those in `exclude`. */
  async notifyConversation(
    conversationId: string,
    notice: Notice,
    options: { exclude?: string[] } = {},
  ): Promise<void> {
    await this.publisher.publish(
      conversationChannel(conversationId),
      options.exclude?.length
        ? { kind: "event", conversationId, exclude: options.exclude }
        : { kind: "event", conversationId },
      notice,
    );
  }
}
