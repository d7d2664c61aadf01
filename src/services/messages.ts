import type { Config } from "../config.ts";
import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import { isSingleEmoji, normalizeEmoji } from "../domain/emoji.ts";
import { conflict, forbidden, invalidField, notFound, validationFailed } from "../domain/errors.ts";
import { can, rolesThatCan } from "../domain/permissions.ts";
import { checkSend, type SendInput } from "../domain/send.ts";
import { checkPoll } from "../domain/poll.ts";
import { checkText, MESSAGE_TEXT } from "../domain/text.ts";
import type { MediaKind } from "../domain/media.ts";
import type { MessageRecord, ReactionSummary } from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { RateLimiter } from "../limits/rate_limit.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { Expectation, MessagePage, NewJob, Store } from "../store/store.ts";
import type { EngagementRecorder } from "./activity.ts";
import type { Actor } from "../domain/actor.ts";
import type { ConversationsService } from "./conversations.ts";
import type { EventLog, PublicEvent } from "./events.ts";
import type { HotReads } from "./hot_reads.ts";
import { expiryJob } from "./expiry.ts";
import { pollCloseJob } from "./poll_close.ts";
import { forwardSource } from "./_forward.ts";
import {
  checkMentions,
  checkMessageRef,
  checkThreadRoot,
  MessageRateLimit,
} from "./_send_checks.ts";
import type { Notices } from "./notices.ts";
import type { SendRules } from "./send_rules.ts";
import {
  type MediaCatalog,
  messageFor,
  type MessageRenderer,
  type PublicMessage,
  type ViewerReactions,
} from "./render.ts";

/** Deleting media that no message references any more (the media service does it). */
export interface MediaReleaser {
  release(mediaIds: string[]): Promise<void>;
}

/**
 * Messages: send (idempotent on sender + clientMsgId, encrypted at rest, acknowledged only after the
 * commit), history, edit, delete for me or for everyone, reactions and the event catch-up. REST and
 * the socket call the same methods.
 */
export class MessagesService {
  readonly #rate: MessageRateLimit;

  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<Store, "conversations" | "messages">;
      dataKeys: DataKeys;
      renderer: MessageRenderer;
      events: EventLog;
      media: MediaCatalog & MediaReleaser;
      conversations: ConversationsService;
      limiter: RateLimiter;
      notices: Notices;
      logger: Logger;
      /** The read cache for the newest page; absent when caching is off. */
      hot?: HotReads;
      activity: EngagementRecorder;
      rules: SendRules;
      metrics: MetricsRegistry;
      /**
       * The job that pushes a new message to offline devices, enqueued in its commit (null when no
       * recipient has a push subscription).
       */
      pushJob?: (
        conversationId: string,
        senderId: string,
        messageId: string,
        now: Date,
      ) => Promise<NewJob | null>;
    },
  ) {
    this.#rate = new MessageRateLimit(deps);
  }

  /**
   * Sends a message. Returns it with `created: false` when this (sender, clientMsgId) was already
   * stored: a retry gets the same message, never a duplicate.
   */
  async send(
    actor: Actor,
    conversationId: string,
    input: SendInput,
    options: { scheduled?: boolean } = {},
  ): Promise<{ message: PublicMessage; created: boolean }> {
    const { conversation, member } = await this.deps.conversations.membership(
      actor,
      conversationId,
    );
    const existing = await this.deps.store.messages.getMessageByClientId(
      actor.userId,
      input.clientMsgId,
    );
    if (existing) {
      return { message: await this.#duplicate(actor, conversationId, existing), created: false };
    }
    if (!can(member.role, "send", null, conversation.settings)) {
      throw forbidden("Only admins may send messages in this group");
    }
    if (
      input.mentionsAll && conversation.type === "group" &&
      !can(member.role, "mentionAll", null, conversation.settings)
    ) {
      throw forbidden("Only admins may mention everyone in this group");
    }
    // Past capacity a new message is refused at once rather than queued (a scheduled one, a job,
    // retries by itself). A scheduled send was rate limited when it was scheduled.
    if (!options.scheduled) {
      this.deps.events.admit();
      await this.#rate.take(actor.userId);
    }
    if (input.poll && input.forwardOf) throw invalidField("poll", "a poll cannot be a forward");
    if (input.alsoInConversation !== undefined && !input.threadId) {
      throw invalidField("alsoInConversation", "only for a thread reply (with threadId)");
    }
    const source = input.forwardOf ? await forwardSource(this.deps, actor, input) : undefined;
    const poll = input.poll ? checkPoll(input.poll) : undefined;
    const { text, mediaIds, mentions } = checkSend(
      source ? { ...source, mentions: input.mentions } : input,
      { content: poll ? "none" : "required" },
    );
    const texts = [
      ...(text !== undefined ? [text] : []),
      ...(poll ? [poll.content.question, ...poll.content.options.map((o) => o.text)] : []),
    ];
    await Promise.all([
      this.deps.rules.check(actor.userId, conversation, member, texts),
      // A forward's attachments are the source's: seen by the sender, not necessarily uploaded.
      mediaIds.length && !source
        ? this.deps.media.checkAttachable(actor.userId, mediaIds, "mediaIds")
        : undefined,
      checkMessageRef(this.deps.store, conversationId, input.replyTo, "replyTo"),
      checkMentions(this.deps.store, conversationId, mentions),
      input.threadId
        ? checkThreadRoot(this.deps.store, conversationId, input.threadId, { live: true })
        : undefined,
    ]);

    const id = newId();
    const now = new Date();
    const at = now.toISOString();
    const ttl = conversation.settings.messageTtlSeconds;
    const expiresAt = ttl ? new Date(now.getTime() + ttl * 1000) : undefined;
    // A poll's question and options are its body, sealed like any text.
    const sealed = poll ? JSON.stringify(poll.content) : text;
    const body = sealed === undefined
      ? null
      : await this.deps.dataKeys.sealText(actor.userId, sealed, messageAad(conversationId, id));
    const push = await this.deps.pushJob?.(conversationId, actor.userId, id, now);
    const result = await this.deps.events.commit({
      conversationId,
      event: "message.created",
      actorId: actor.userId,
      messageId: id,
      at,
      idempotency: { senderId: actor.userId, clientMsgId: input.clientMsgId },
      expect: [
        {
          kind: "member",
          userId: actor.userId,
          roles: rolesThatCan("send", conversation.settings),
          error: notFound("Conversation not found"),
        },
        ...this.deps.rules.slowMode(actor.userId, conversation, member, now),
        // The root checked above may have been deleted since.
        ...(input.threadId
          ? [{
            kind: "message" as const,
            messageId: input.threadId,
            live: true,
            error: conflict("The thread's root message was deleted"),
          }]
          : []),
      ],
      mutations: [
        {
          op: "insertMessage",
          message: {
            id,
            conversationId,
            senderId: actor.userId,
            clientMsgId: input.clientMsgId,
            kind: poll ? "poll" : mediaIds.length ? "media" : "text",
            body,
            mediaIds,
            replyTo: input.replyTo ?? null,
            mentions,
            system: null,
            editedAt: null,
            deletedAt: null,
            createdAt: at,
            ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
            ...(source ? { forwarded: source.forwarded } : {}),
            ...(input.mentionsAll ? { mentionsAll: true } : {}),
            ...(poll ? { poll: poll.settings } : {}),
            ...(input.threadId ? { threadId: input.threadId } : {}),
            ...(input.threadId && input.alsoInConversation ? { alsoInConversation: true } : {}),
          },
        },
        // Sending reads what came before: markers and receipt times move in the same commit.
        { op: "readUpTo", userId: actor.userId },
      ],
      // Work the message causes later is enqueued with it, or the message is not stored at all: a
      // disappearing message's deletion, a poll's closing.
      jobs: [
        ...(expiresAt ? [expiryJob(conversationId, id, expiresAt, now)] : []),
        ...(poll?.settings.closesAt
          ? [pollCloseJob(conversationId, id, new Date(poll.settings.closesAt), now)]
          : []),
        ...(push ? [push] : []),
      ],
    }, { plain: sealed === undefined ? undefined : new Map([[id, sealed]]), fresh: true });
    if (result.status === "duplicate") {
      return {
        message: await this.#duplicate(actor, conversationId, result.message),
        created: false,
      };
    }
    if (result.status !== "committed") throw new Error("a new message always commits");
    const view = result.view!;
    this.deps.activity.messageSent(view.media.map((m) => m.kind as MediaKind));
    return { message: messageFor(view, actor.userId), created: true };
  }

  async #duplicate(actor: Actor, conversationId: string, m: MessageRecord): Promise<PublicMessage> {
    if (m.conversationId !== conversationId) {
      throw conflict("clientMsgId was already used for a message in another conversation");
    }
    const [view] = await this.deps.renderer.render([m]);
    return messageFor(view, actor.userId);
  }

  /**
   * History in ascending seq order: the newest page (through the read cache when there is one), or
   * `before`/`after` a seq.
   */
  async history(
    actor: Actor,
    conversationId: string,
    options: { before?: number; after?: number; limit: number },
  ): Promise<{ messages: PublicMessage[]; hasMore: boolean }> {
    const membership = () => this.deps.conversations.membership(actor, conversationId);
    let page: MessagePage & { reactions?: Map<string, ReactionSummary> };
    if (this.deps.hot && options.before === undefined && options.after === undefined) {
      const { limit } = options;
      page = await this.deps.hot.newest(actor.userId, conversationId, { limit, membership });
    } else {
      await membership();
      page = await this.deps.store.messages.listMessages(conversationId, actor.userId, options);
    }
    const reactions = page.reactions ?? this.deps.renderer.reactionsFor(page.messages);
    const [views, viewer] = await Promise.all([
      this.deps.renderer.renderWith(page.messages, reactions),
      this.deps.renderer.viewer(actor.userId),
    ]);
    return { messages: views.map((v) => messageFor(v, viewer)), hasMore: page.hasMore };
  }

  /** Replaces the text of the caller's own message; `editedAt` records when. */
  async edit(
    actor: Actor,
    conversationId: string,
    messageId: string,
    rawText: string,
  ): Promise<PublicMessage> {
    const { conversation } = await this.deps.conversations.membership(actor, conversationId);
    const m = await this.#message(conversationId, messageId);
    if (m.senderId !== actor.userId || m.kind === "system") {
      throw forbidden("Only the author may edit a message");
    }
    if (m.deletedAt) throw conflict("The message was deleted");
    if (m.kind === "poll") throw forbidden("A poll cannot be edited");
    const r = checkText(rawText, { field: "text", ...MESSAGE_TEXT });
    if (!r.ok) throw validationFailed(r.problems);
    await this.deps.rules.checkText(conversation, [r.text]);
    const at = nowIso();
    const body = await this.deps.dataKeys.sealText(
      actor.userId,
      r.text,
      messageAad(conversationId, messageId),
    );
    const result = await this.deps.events.commit({
      conversationId,
      event: "message.updated",
      actorId: actor.userId,
      messageId,
      at,
      expect: [
        { kind: "member", userId: actor.userId, error: notFound("Conversation not found") },
        {
          kind: "message",
          messageId,
          senderId: actor.userId,
          live: true,
          error: conflict("The message was deleted"),
        },
      ],
      mutations: [{ op: "editMessage", messageId, body, editedAt: at }],
    }, { plain: new Map([[messageId, r.text]]) });
    if (result.status !== "committed") throw conflict("The message was deleted");
    return messageFor(result.view!, actor.userId);
  }

  /**
   * Deletes a message for the caller only, or for everyone (the author, or a moderator and up over
   * members ranked below): the body and attachments are erased and a tombstone remains.
   */
  async delete(
    actor: Actor,
    conversationId: string,
    messageId: string,
    scope: "me" | "everyone",
  ): Promise<void> {
    const { conversation, member } = await this.deps.conversations.membership(
      actor,
      conversationId,
    );
    const m = await this.#message(conversationId, messageId);
    if (scope === "me") {
      await this.deps.store.messages.hideMessage(actor.userId, m);
      await this.deps.notices.notifyUser(actor.userId, {
        event: "message.hidden",
        conversationId,
        data: { messageId, conversationId },
      });
      return;
    }
    if (m.kind === "system") throw forbidden("System messages cannot be deleted");
    if (m.senderId !== actor.userId) {
      const sender = m.senderId
        ? await this.deps.store.conversations.getMember(conversationId, m.senderId)
        : null;
      const allowed = conversation.type === "group" &&
        can(member.role, "deleteOthersMessage", sender?.role ?? null, conversation.settings);
      if (!allowed) throw forbidden("You may delete only your own messages here");
    }
    // Idempotent only for those who may delete it: others learn nothing from a 204.
    await this.#eraseForEveryone(actor.userId, m, [{
      kind: "member",
      userId: actor.userId,
      roles: [member.role],
      error: conflict("Your role changed; try again"),
    }]);
  }

  /**
   * A site admin removes any message for everyone (a `message.deleted`, as when its author deletes
   * it); the caller checks the admin role and audits.
   */
  async removeAsAdmin(actorId: string, conversationId: string, messageId: string): Promise<void> {
    const m = await this.#message(conversationId, messageId);
    if (m.kind === "system") throw forbidden("System messages cannot be deleted");
    await this.#eraseForEveryone(actorId, m, []);
  }

  /** Erases a message for everyone (nothing when it is already), then releases its attachments. */
  async #eraseForEveryone(actorId: string, m: MessageRecord, expect: Expectation[]) {
    if (m.deletedAt) return;
    const at = nowIso();
    const result = await this.deps.events.commit({
      conversationId: m.conversationId,
      event: "message.deleted",
      actorId,
      messageId: m.id,
      at,
      expect,
      mutations: [{ op: "eraseMessage", messageId: m.id, deletedAt: at }],
    });
    if (result.status === "committed" && m.mediaIds.length) {
      await this.deps.media.release(m.mediaIds);
    }
  }

  /** Adds or removes the caller's reaction (exactly one emoji); idempotent. Returns the reactions. */
  async react(
    actor: Actor,
    conversationId: string,
    messageId: string,
    emoji: string,
    add: boolean,
  ): Promise<ViewerReactions> {
    const { conversation, member } = await this.deps.conversations.membership(
      actor,
      conversationId,
    );
    if (!isSingleEmoji(emoji)) throw invalidField("emoji", "must be exactly one emoji");
    emoji = normalizeEmoji(emoji);
    if (!can(member.role, "react", null, conversation.settings)) {
      throw forbidden("You may not react here");
    }
    const m = await this.#message(conversationId, messageId);
    if (m.deletedAt) throw conflict("The message was deleted");
    if (m.kind === "system") throw forbidden("System messages take no reactions");
    const at = nowIso();
    const result = await this.deps.events.commit({
      conversationId,
      event: "reaction.updated",
      actorId: actor.userId,
      messageId,
      at,
      data: { userId: actor.userId, emoji, action: add ? "added" : "removed" },
      expect: [
        { kind: "member", userId: actor.userId, error: notFound("Conversation not found") },
        { kind: "message", messageId, live: true, error: conflict("The message was deleted") },
      ],
      mutations: [
        add
          ? { op: "addReaction", messageId, userId: actor.userId, emoji, at }
          : { op: "removeReaction", messageId, userId: actor.userId, emoji },
      ],
    });
    const [view] = result.status === "committed"
      ? [result.view!]
      : await this.deps.renderer.render([m]);
    return messageFor(view, actor.userId).reactions;
  }

  /** Durable events after `after` for catching up. */
  async events(
    actor: Actor,
    conversationId: string,
    after: number,
    limit: number,
  ): Promise<{ events: PublicEvent[]; hasMore: boolean; nextAfter: number }> {
    await this.deps.conversations.membership(actor, conversationId);
    return await this.deps.events.page(actor.userId, conversationId, after, limit);
  }

  async #message(conversationId: string, messageId: string): Promise<MessageRecord> {
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m) throw notFound("Message not found");
    return m;
  }
}
