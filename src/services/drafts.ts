import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { notFound, validationFailed } from "../domain/errors.ts";
import { checkText, MESSAGE_TEXT } from "../domain/text.ts";
import { nowIso } from "../ids.ts";
import type { DraftRecord, Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";
import type { Notices } from "./notices.ts";
import type { UserData } from "./user_data.ts";
import { checkThreadRoot } from "./_send_checks.ts";

/** A draft as its owner sees it. */
export interface DraftView {
  conversationId: string;
  threadId?: string;
  text: string;
  updatedAt: string;
}

function draftAad(d: { userId: string; conversationId: string; threadId: string | null }): string {
  return `draft:${d.userId}:${d.conversationId}:${d.threadId ?? ""}`;
}

/** A stored draft as its owner sees it, with its text already opened. */
function viewOf(d: DraftRecord, text: string): DraftView {
  return {
    conversationId: d.conversationId,
    ...(d.threadId ? { threadId: d.threadId } : {}),
    text,
    updatedAt: d.updatedAt,
  };
}

/**
 * Drafts: a user's unsent text per conversation (and per thread), kept encrypted under their data
 * key and synced to their other devices: every change is a `draft.updated` user event (`text` and
 * `updatedAt`, or `deleted: true`).
 */
export class DraftsService implements UserData {
  readonly exportPath = "drafts.jsonl";
  readonly exportDescription = "your unsent drafts, per conversation and thread (text decrypted)";

  constructor(
    private readonly deps: {
      store: Pick<Store, "drafts" | "messages">;
      dataKeys: DataKeys;
      conversations: ConversationsService;
      notices: Notices;
    },
  ) {}

  /** Saves the caller's draft for the conversation (or a thread of it); returns it. */
  async put(
    actor: Actor,
    conversationId: string,
    input: { text: string; threadId?: string },
  ): Promise<DraftView> {
    const threadId = await this.#place(actor, conversationId, input.threadId, { live: true });
    const r = checkText(input.text, { field: "text", ...MESSAGE_TEXT });
    if (!r.ok) throw validationFailed(r.problems);
    const place = { userId: actor.userId, conversationId, threadId };
    const draft: DraftRecord = {
      ...place,
      body: await this.deps.dataKeys.sealText(actor.userId, r.text, draftAad(place)),
      updatedAt: nowIso(),
    };
    await this.deps.store.drafts.putDraft(draft);
    const view = viewOf(draft, r.text);
    await this.#tell(actor.userId, { ...view });
    return view;
  }

  /** The caller's draft there (404 when there is none). */
  async get(actor: Actor, conversationId: string, threadId?: string): Promise<DraftView> {
    const place = await this.#place(actor, conversationId, threadId, { live: false });
    const d = await this.deps.store.drafts.getDraft(actor.userId, conversationId, place);
    if (!d) throw notFound("No draft");
    return await this.#view(d);
  }

  /** Discards the caller's draft there (idempotent). */
  async delete(actor: Actor, conversationId: string, threadId?: string): Promise<void> {
    const place = await this.#place(actor, conversationId, threadId, { live: false });
    if (await this.deps.store.drafts.deleteDraft(actor.userId, conversationId, place)) {
      await this.#tell(actor.userId, {
        conversationId,
        ...(place ? { threadId: place } : {}),
        deleted: true,
        updatedAt: nowIso(),
      });
    }
  }

  /** Every draft of a user with its text, for their export. */
  async exportUser(userId: string): Promise<DraftView[]> {
    const drafts = await this.deps.store.drafts.listDrafts(userId);
    return await Promise.all(drafts.map((d) => this.#view(d)));
  }

  /** Removes every draft of a user (erasure). */
  eraseUser(userId: string): Promise<number> {
    return this.deps.store.drafts.deleteUserDrafts(userId);
  }

  /**
   * Checks membership and that a thread is a thread root of this conversation (a live one when the
   * draft is being written); the thread id or null.
   */
  async #place(
    actor: Actor,
    conversationId: string,
    threadId: string | undefined,
    options: { live: boolean },
  ): Promise<string | null> {
    await this.deps.conversations.membership(actor, conversationId);
    if (threadId !== undefined) {
      await checkThreadRoot(this.deps.store, conversationId, threadId, options);
    }
    return threadId ?? null;
  }

  async #view(d: DraftRecord): Promise<DraftView> {
    return viewOf(d, await this.deps.dataKeys.openText(d.body, draftAad(d)) ?? "");
  }

  async #tell(userId: string, data: Record<string, unknown>): Promise<void> {
    await this.deps.notices.notifyUser(userId, {
      event: "draft.updated",
      conversationId: data.conversationId as string,
      data,
    });
  }
}
