import type { Actor } from "../domain/actor.ts";
import { invalidField, notFound } from "../domain/errors.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import { type Publisher, userChannel } from "./publisher.ts";
import type { UserData } from "./user_data.ts";

/** A block as its owner sees it. */
export interface BlockView {
  userId: string;
  createdAt: string;
}

/** The control action that tells a user's sockets (on every instance) their block list changed. */
export const BLOCKS_CHANGED = "blocks.changed";

/**
 * Blocking: a user blocks another. The blocked user cannot open or write to a direct conversation
 * with the blocker, nor add them to groups (403 `blocked`); sees the blocker's profile without
 * presence, last seen, avatar or status; and gets no presence from them. In shared groups both still
 * see each other's messages; the blocker's copies of the blocked user's messages carry
 * `senderBlocked: true`, and the blocker gets no typing or presence from them.
 */
export class BlocksService implements UserData {
  readonly exportPath = "blocks.jsonl";
  readonly exportDescription = "the users you block, and since when";

  constructor(
    private readonly deps: { store: Pick<Store, "accounts" | "moderation">; publisher: Publisher },
  ) {}

  /** Blocks `userId` (idempotent). */
  async block(actor: Actor, userId: string): Promise<void> {
    if (userId === actor.userId) throw invalidField("userId", "you cannot block yourself");
    const user = await this.deps.store.accounts.getUser(userId);
    if (!user || user.deletedAt) throw notFound("User not found");
    const added = await this.deps.store.moderation.putBlock({
      userId: actor.userId,
      blockedId: userId,
      createdAt: nowIso(),
    });
    if (added) await this.#changed(actor.userId);
  }

  /** Lifts a block (idempotent). */
  async unblock(actor: Actor, userId: string): Promise<void> {
    if (await this.deps.store.moderation.deleteBlock(actor.userId, userId)) {
      await this.#changed(actor.userId);
    }
  }

  /** The users the caller blocks, newest first. */
  async list(actor: Actor): Promise<BlockView[]> {
    return (await this.deps.store.moderation.listBlocks(actor.userId)).map((b) => ({
      userId: b.blockedId,
      createdAt: b.createdAt,
    }));
  }

  /** The ids of the users `userId` blocks. */
  async blockedIds(userId: string): Promise<Set<string>> {
    return new Set((await this.deps.store.moderation.listBlocks(userId)).map((b) => b.blockedId));
  }

  /** The ids of the users who block `userId`. */
  async blockerIds(userId: string): Promise<string[]> {
    return await this.deps.store.moderation.listBlockers(userId);
  }

  async exportUser(userId: string): Promise<unknown[]> {
    return await this.list({ userId, sessionId: "", role: "user" });
  }

  /** Blocks (both ways) go at the end of the user's erasure with their other moderation state. */
  async eraseUser(userId: string): Promise<number> {
    await this.deps.store.moderation.eraseUser(userId);
    return 0;
  }

  async #changed(userId: string): Promise<void> {
    await this.deps.publisher.publish(
      userChannel(userId),
      { kind: "control", action: BLOCKS_CHANGED },
      {},
    );
  }
}
