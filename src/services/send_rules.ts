import { blocked, contentBlocked, muted, slowMode } from "../domain/errors.ts";
import { can } from "../domain/permissions.ts";
import type { Conversation, Member } from "../domain/types.ts";
import { findBlocked } from "../domain/words.ts";
import type { Expectation, Store } from "../store/store.ts";

/** How long an instance uses the site's blocked words before reading them again. */
const SITE_WORDS_TTL_MS = 5_000;

/**
 * The safety rules of a send, on top of the role matrix: a moderator's mute (403 `muted`), a block
 * in a direct conversation (403 `blocked`), blocked words of the conversation and the site (422
 * `content_blocked`, also for edits), and slow mode (an expectation of the send's commit, so of
 * concurrent sends exactly one passes per interval: 429 `slow_mode`).
 */
export class SendRules {
  #siteWords: { words: string[]; at: number } | null = null;

  constructor(private readonly deps: { store: Pick<Store, "moderation" | "conversations"> }) {}

  /** Checks what can be checked before the commit; throws the first rule broken. */
  async check(
    userId: string,
    conversation: Conversation,
    member: Member,
    texts: string[],
  ): Promise<void> {
    if (member.silencedUntil && member.silencedUntil > new Date().toISOString()) {
      throw muted(member.silencedUntil);
    }
    await Promise.all([
      conversation.type === "direct" ? this.#refuseBlockedPeer(userId, conversation.id) : undefined,
      this.checkText(conversation, texts),
    ]);
  }

  /** Throws 422 `content_blocked` when a text holds a word blocked here or on the site. */
  async checkText(conversation: Conversation, texts: string[]): Promise<void> {
    if (texts.length === 0) return;
    const site = await this.siteWords();
    if (findBlocked(texts, [conversation.settings.blockedWords ?? [], site]) !== null) {
      throw contentBlocked();
    }
  }

  /** The slow-mode expectation of a send at `at` (none when slow mode is off or does not apply). */
  slowMode(userId: string, conversation: Conversation, member: Member, at: Date): Expectation[] {
    const seconds = conversation.settings.slowModeSeconds ?? 0;
    if (conversation.type !== "group" || seconds <= 0) return [];
    if (can(member.role, "bypassSlowMode", null, conversation.settings)) return [];
    return [{
      kind: "slowMode",
      userId,
      since: new Date(at.getTime() - seconds * 1000).toISOString(),
      at: at.toISOString(),
      error: slowMode(seconds),
    }];
  }

  /** The site's blocked words (read at most every few seconds). */
  async siteWords(): Promise<string[]> {
    const cached = this.#siteWords;
    if (cached && Date.now() - cached.at < SITE_WORDS_TTL_MS) return cached.words;
    const words = await this.deps.store.moderation.siteBlockedWords();
    this.#siteWords = { words, at: Date.now() };
    return words;
  }

  /** Replaces the site's blocked words; this instance uses them at once, others within seconds. */
  async setSiteWords(words: string[]): Promise<void> {
    await this.deps.store.moderation.setSiteBlockedWords(words);
    this.#siteWords = { words, at: Date.now() };
  }

  async #refuseBlockedPeer(userId: string, conversationId: string): Promise<void> {
    const blockers = await this.deps.store.moderation.listBlockers(userId);
    if (blockers.length === 0) return;
    const members = await this.deps.store.conversations.getMembers(conversationId, blockers);
    if (members.length > 0) throw blocked();
  }
}
