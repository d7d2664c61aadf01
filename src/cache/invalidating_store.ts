import type { Change, Store } from "../store/store.ts";
import { conversationDep, EPOCH, userDep } from "./cache.ts";

type Invalidate = (deps: string[]) => Promise<void>;

/**
 * A {@link Store} that tells the read cache what each write changed, right after the write returns
 * (and so before the service that made it publishes anything): a conversation's commits bump the
 * conversation; memberships, read markers, mute/archive and delete-for-me bump the user; a retention
 * batch bumps its conversation; the end of an erasure (which removes messages and reactions in
 * conversations it does not name) bumps the epoch. A write that fails bumps too, since an adapter
 * without transactions may have written part of it.
 *
 * Only the writes that change what the cache holds (history pages and conversation lists) are
 * intercepted; every other method is the inner store's own. A new write that changes cached data
 * must be added here (`tests/http/read_cache_test.ts` compares cached answers with the store's after
 * every kind of change). `invalidate` must not throw (see `ReadThrough.invalidate`).
 */
export function invalidatingStore(inner: Store, invalidate: Invalidate): Store {
  /** Runs `write`, then invalidates `deps` whether it succeeded or not. */
  async function bump<T>(deps: string[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await invalidate(deps);
    }
  }
  const { log, conversations, messages, privacy } = inner;
  return {
    kind: inner.kind,
    ping: () => inner.ping(),
    close: () => inner.close(),
    accounts: inner.accounts,
    media: inner.media,
    audit: inner.audit,
    exports: inner.exports,
    activity: inner.activity,
    jobs: inner.jobs,
    scheduled: inner.scheduled,
    drafts: inner.drafts,
    moderation: inner.moderation,
    push: inner.push,
    search: inner.search,
    archive: inner.archive,
    log: overriding(log, {
      commit: (change) => bump(changeDeps(change), () => log.commit(change)),
    }),
    conversations: overriding(conversations, {
      createConversation: (input) =>
        bump(
          [
            conversationDep(input.conversation.id),
            ...input.members.map((m) => userDep(m.userId)),
          ],
          () => conversations.createConversation(input),
        ),
      setMemberState: (conversationId, userId, patch) =>
        bump([userDep(userId)], () => conversations.setMemberState(conversationId, userId, patch)),
    }),
    messages: overriding(messages, {
      hideMessage: (userId, message) =>
        bump([userDep(userId)], () => messages.hideMessage(userId, message)),
      async advanceMarker(conversationId, userId, kind, seq, at) {
        const moved = await messages.advanceMarker(conversationId, userId, kind, seq, at);
        // Only the read marker shows (as unreadCount); a marker that did not move changed nothing.
        if (kind === "read" && moved !== null) await invalidate([userDep(userId)]);
        return moved;
      },
    }),
    privacy: overriding(privacy, {
      beginErasure: (userId, start) =>
        bump([userDep(userId)], () => privacy.beginErasure(userId, start)),
      // Rare, and touches any conversation the user ever wrote or reacted in.
      finishErasure: (userId, at) => bump([EPOCH], () => privacy.finishErasure(userId, at)),
      async sweepRetention(conversationId, cutoff, limit) {
        let batch: Awaited<ReturnType<typeof privacy.sweepRetention>> | undefined;
        try {
          return batch = await privacy.sweepRetention(conversationId, cutoff, limit);
        } finally {
          // Sweeps run every few minutes over every conversation with retention: most remove nothing.
          if (!batch || batch.messages > 0 || batch.events > 0) {
            await invalidate([conversationDep(conversationId)]);
          }
        }
      },
    }),
  };
}

/**
 * `inner` with some methods replaced: everything else (methods bound to `inner`, and properties) is
 * read from `inner` itself, so an adapter's private state keeps working.
 */
function overriding<T extends object>(inner: T, overrides: Partial<T>): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      let fn = bound.get(key);
      if (!fn) bound.set(key, fn = value.bind(target));
      return fn;
    },
  });
}

/** What a commit can change: its conversation, and the lists of users who joined or left it. */
function changeDeps(change: Change): string[] {
  const deps = [conversationDep(change.conversationId)];
  for (const m of change.mutations) {
    if (m.op === "addMembers") deps.push(...m.members.map((x) => userDep(x.userId)));
    if (m.op === "removeMember") deps.push(userDep(m.userId));
  }
  return deps;
}
