import { notFound, overloaded } from "../domain/errors.ts";
import type { EventRecord, MessageRecord } from "../domain/types.ts";
import type { Change, NewConversation, Store } from "../store/store.ts";
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

/** A committed event ready for delivery: its envelope and its body, serialised once. */
export interface Envelope {
  meta: EnvelopeMeta;
  body: string;
}

/** What {@link EventLog.commit} did: a committed change comes with its rendered message and event. */
export type Committed =
  | {
    status: "committed";
    event: EventRecord;
    message: MessageRecord | null;
    /** The message the event points at, rendered (shared reactions); absent when there is none. */
    view?: MessageView;
    published: PublicEvent;
  }
  | { status: "duplicate"; message: MessageRecord }
  | { status: "unchanged" };

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
 * The conversation event log as clients see it, and the one path by which a durable change happens:
 * {@link commit} commits (the only caller of the store's `log.commit`), renders and publishes, only
 * ever after the commit. It also renders stored events for catch-up (`page`) and gap fill (`since`).
 */
export class EventLog {
  #committed = new Set<(record: EventRecord, view?: MessageView) => void>();
  /** Commits under way, by when each began (insertion order: the first is the oldest). */
  #inFlight = new Map<number, number>();
  #nextCommit = 0;

  constructor(
    private readonly deps: {
      store: Pick<Store, "log" | "messages" | "conversations">;
      renderer: MessageRenderer;
      publisher: Publisher;
      /**
       * Admission: new messages are refused (503 `overloaded`) while a commit under way has waited
       * longer than this (0: never), so past capacity sends fail fast instead of queueing for
       * seconds, and what was accepted still commits within about twice this.
       */
      admissionMs?: number;
      /** How late the event loop runs (admission also refuses while it is past the bound). */
      loopLag?: { readonly lagMs: number };
    },
  ) {}

  /** How long the oldest commit under way has been waiting, in ms (0 when none). */
  oldestCommitMs(now = performance.now()): number {
    const first = this.#inFlight.values().next();
    return first.done ? 0 : now - first.value;
  }

  /**
   * Throws 503 `overloaded` when the server is past the admission bound: a commit under way has
   * waited longer (the writer is behind), or the event loop runs that late (the main thread is
   * behind: frames queue before they are even read).
   */
  admit(): void {
    const bound = this.deps.admissionMs ?? 0;
    if (bound <= 0) return;
    if (this.oldestCommitMs() > bound || (this.deps.loopLag?.lagMs ?? 0) > bound) {
      throw overloaded(1);
    }
  }

  /**
   * Tells `fn` of every event this instance commits, with the message it touched as rendered for
   * publishing (decrypted), right after it is published here (the search index follows this).
   */
  onCommitted(fn: (record: EventRecord, view?: MessageView) => void): void {
    this.#committed.add(fn);
  }

  /**
   * How long a missing seq may stay missing before a reader may skip it as a hole: the log's own
   * settle time (see `LogStore.holeSettleMs`).
   */
  get holeSettleMs(): number {
    return this.deps.store.log.holeSettleMs;
  }

  /**
   * Commits `change`, renders the message it touched (with `plain` texts already known by message
   * id; a `fresh` message cannot have reactions yet) and publishes the event. A conversation that
   * does not exist is a 404; a duplicate or an unchanged commit publishes nothing.
   */
  async commit(
    change: Change,
    options: { plain?: Map<string, string>; fresh?: boolean } = {},
  ): Promise<Committed> {
    const result = await this.commitUnlessGone(change, options);
    if (result.status === "missing") throw notFound("Conversation not found");
    return result;
  }

  /**
   * {@link commit} for work that outlives its conversation (expiry, erasure, a poll closing): a
   * conversation that no longer exists is the `missing` outcome, not an error.
   */
  async commitUnlessGone(
    change: Change,
    options: { plain?: Map<string, string>; fresh?: boolean } = {},
  ): Promise<Committed | { status: "missing" }> {
    const token = this.#nextCommit++;
    this.#inFlight.set(token, performance.now());
    let result;
    try {
      result = await this.deps.store.log.commit(change);
    } finally {
      this.#inFlight.delete(token);
    }
    if (result.status !== "committed") return result;
    const [view] = result.message
      ? await this.deps.renderer.render([result.message], options.plain, options.fresh)
      : [];
    const published = await this.#publish(result.event, view);
    return { ...result, view, published };
  }

  /**
   * Creates a conversation with its first event and publishes that event, so its members learn about
   * it; for a direct pair that already has one, returns that one and publishes nothing.
   */
  async createConversation(
    input: NewConversation,
  ): Promise<Awaited<ReturnType<Store["conversations"]["createConversation"]>>> {
    const created = await this.deps.store.conversations.createConversation(input);
    if (created.created) {
      const page = await this.deps.store.log.listEvents(input.conversation.id, {
        after: 0,
        limit: 1,
      });
      const [view] = await this.deps.renderer.render([...page.messages.values()]);
      await this.#publish(page.events[0], view);
    }
    return created;
  }

  /** Renders one committed event; `view` is the already-rendered message it points at, if any. */
  render(record: EventRecord, rendered?: MessageView): PublicEvent {
    // A root's thread summary is left out of events: clients keep it from the replies' events (a
    // summary as of now, inside an older event, would count later replies twice).
    const view = rendered && withoutThread(rendered);
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
    const page = await this.deps.store.log.listEvents(conversationId, { after, limit });
    const hidden = await this.deps.store.messages.hiddenMessageIds(viewerId, [
      ...page.messages.keys(),
    ]);
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
   * Stored events after `after` as the envelopes live delivery would have carried (the realtime
   * hub fills gaps with them). Never returns an event past a seq that may still be committing.
   */
  async since(
    conversationId: string,
    options: { after: number; limit: number },
  ): Promise<{ envelopes: Envelope[]; hasMore: boolean }> {
    const page = await this.deps.store.log.listEvents(conversationId, options);
    const rendered = await this.renderPage(page.events, page.messages);
    return {
      envelopes: rendered.map((event, i) => ({
        meta: this.#envelope(page.events[i], event),
        body: JSON.stringify(event),
      })),
      hasMore: page.hasMore,
    };
  }

  /**
   * The conversations `userId` is a member of, each with the seq at or below which every event is
   * readable (see `LogStore.conversationHeads`).
   */
  heads(userId: string): Promise<Array<{ id: string; lastSeq: number }>> {
    return this.deps.store.log.conversationHeads(userId);
  }

  /**
   * Publishes a committed event on its conversation's channel. Members who just joined also get a
   * notice on their own channel, so their instances start listening to the conversation.
   */
  async #publish(record: EventRecord, view?: MessageView): Promise<PublicEvent> {
    const event = this.render(record, view);
    const meta = this.#envelope(record, event);
    await this.deps.publisher.publish(conversationChannel(record.conversationId), meta, event);
    for (const fn of this.#committed) {
      try {
        fn(record, view);
      } catch {
        // A follower's failure (the search index) never fails a commit; it catches up by itself.
      }
    }
    for (const userId of meta.membership?.added ?? []) {
      await this.deps.publisher.publish(userChannel(userId), {
        kind: "control",
        action: "conversation.joined",
        conversationId: record.conversationId,
        seq: record.seq,
      }, { conversationId: record.conversationId, seq: record.seq });
    }
    return event;
  }

  /** The envelope of a durable event: where it belongs, how receivers order and personalise it. */
  #envelope(record: EventRecord, event: PublicEvent): EnvelopeMeta {
    const meta: EnvelopeMeta = {
      kind: "event",
      conversationId: record.conversationId,
      seq: record.seq,
      personal: needsPersonalizing(event.data),
    };
    const hint = membershipHint(record);
    if (hint) meta.membership = hint;
    return meta;
  }
}

function withoutThread(view: MessageView): MessageView {
  if (!view.thread) return view;
  const { thread: _, ...rest } = view;
  return rest;
}
