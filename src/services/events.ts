import type { EventRecord, MessageRecord } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import {
  conversationChannel,
  type EnvelopeMeta,
  type Publisher,
  userChannel,
} from "./publisher.ts";
import {
  type MessageRenderer,
  type MessageView,
  needsPersonalizing,
  personalize,
} from "./render.ts";

/**
 * A durable event as clients see it, in `/events` pages, socket replays and live `event` frames alike.
 * `data` may still carry shared reactions; {@link personalize} it per recipient.
 */
export interface PublicEvent {
  seq: number;
  event: string;
  conversationId: string;
  data: Record<string, unknown>;
  createdAt: string;
}

/** How an event changes who receives a conversation (read by the realtime hub). */
export interface MembershipHint {
  added?: string[];
  removed?: string[];
  deleted?: boolean;
}

/** The membership effect of an event, from its stored data. */
export function membershipHint(
  e: { event: string; data: Record<string, unknown> },
): MembershipHint | undefined {
  if (e.event === "member.added" || e.event === "conversation.created") {
    const members = e.data.members as Array<{ userId: string }> | undefined;
    return members ? { added: members.map((m) => m.userId) } : undefined;
  }
  if (e.event === "member.removed") return { removed: [e.data.userId as string] };
  if (e.event === "conversation.deleted") return { deleted: true };
  return undefined;
}

/**
 * The conversation event log as clients see it: renders stored events (joining and decrypting the
 * messages they point at) and publishes committed ones, only ever after commit.
 */
export class EventLog {
  constructor(
    private readonly deps: { store: Store; renderer: MessageRenderer; publisher: Publisher },
  ) {}

  /** Renders one committed event; `view` is the already-rendered message it points at, if any. */
  render(record: EventRecord, view?: MessageView): PublicEvent {
    let data: Record<string, unknown>;
    switch (record.event) {
      case "message.created":
      case "message.updated":
      case "message.deleted":
        data = view ? { ...view } : { ...record.data };
        break;
      case "reaction.updated":
        data = { ...record.data, messageId: record.messageId, reactions: view?.reactions ?? [] };
        break;
      default:
        data = view ? { ...record.data, message: view } : { ...record.data };
    }
    return {
      seq: record.seq,
      event: record.event,
      conversationId: record.conversationId,
      data,
      createdAt: record.createdAt,
    };
  }

  /** Renders a stored page of events (messages joined and decrypted once each). */
  async renderPage(
    events: EventRecord[],
    messages: Map<string, MessageRecord>,
  ): Promise<PublicEvent[]> {
    const views = new Map(
      (await this.deps.renderer.render([...messages.values()])).map((v) => [v.id, v]),
    );
    return events.map((e) => this.render(e, e.messageId ? views.get(e.messageId) : undefined));
  }

  /** Durable events after `after`, rendered for `viewerId` (the `/events` catch-up route). */
  async page(
    viewerId: string,
    conversationId: string,
    after: number,
    limit: number,
  ): Promise<{ events: PublicEvent[]; hasMore: boolean; nextAfter: number }> {
    const page = await this.deps.store.listEvents(conversationId, { after, limit });
    const hidden = await this.deps.store.hiddenMessageIds(viewerId, [...page.messages.keys()]);
    // Messages the viewer deleted for themselves stay out of their catch-up, as out of their history.
    const visible = page.events.filter((e) => !(e.messageId && hidden.has(e.messageId)));
    const events = await this.renderPage(visible, page.messages);
    return {
      events: events.map((e) => personalize(e, viewerId)),
      hasMore: page.hasMore,
      // Where to continue even when every event of the page was hidden from this viewer.
      nextAfter: page.events.at(-1)?.seq ?? after,
    };
  }

  /**
   * Publishes a committed event on its conversation's channel. Members who just joined also get a
   * notice on their own channel, so their instances start listening to the conversation.
   */
  async publish(record: EventRecord, view?: MessageView): Promise<PublicEvent> {
    const event = this.render(record, view);
    const hint = membershipHint(record);
    const meta: EnvelopeMeta = {
      kind: "event",
      conversationId: record.conversationId,
      seq: record.seq,
      personal: needsPersonalizing(event.data),
    };
    if (hint) meta.membership = hint;
    await this.deps.publisher.publish(conversationChannel(record.conversationId), meta, event);
    for (const userId of hint?.added ?? []) {
      await this.deps.publisher.publish(userChannel(userId), {
        kind: "control",
        action: "conversation.joined",
        conversationId: record.conversationId,
        seq: record.seq,
      }, { conversationId: record.conversationId, seq: record.seq });
    }
    return event;
  }
}
