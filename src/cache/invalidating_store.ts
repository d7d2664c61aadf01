import type { Conversation, Member, MessageRecord } from "../domain/types.ts";
import type { Change, CommitResult, NewConversation, Store } from "../store/store.ts";
import { conversationDep, EPOCH, userDep } from "./cache.ts";

/**
 * A {@link Store} that tells the read cache what each write changed, right after the write returns
 * (and so before the service that made it publishes anything): a conversation's commits bump the
 * conversation; memberships, read markers, mute/archive and delete-for-me bump the user; a retention
 * batch bumps its conversation; the end of an erasure (which removes messages and reactions in
 * conversations it does not name) bumps the epoch. A write that fails bumps too, since an adapter
 * without transactions may have written part of it.
 *
 * Every method of the port is spelled out, so a new write method does not compile until someone
 * decides what it invalidates. `invalidate` must not throw (see `ReadThrough.invalidate`).
 */
export class InvalidatingStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly invalidate: (deps: string[]) => Promise<void>,
  ) {}

  get kind(): Store["kind"] {
    return this.inner.kind;
  }

  async commit(change: Change): Promise<CommitResult> {
    try {
      return await this.inner.commit(change);
    } finally {
      await this.invalidate(changeDeps(change));
    }
  }

  async createConversation(
    input: NewConversation,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    try {
      return await this.inner.createConversation(input);
    } finally {
      await this.invalidate([
        conversationDep(input.conversation.id),
        ...input.members.map((m) => userDep(m.userId)),
      ]);
    }
  }

  async setMemberState(
    conversationId: string,
    userId: string,
    patch: { muted?: boolean; mutedUntil?: string | null; archived?: boolean },
  ): Promise<Member | null> {
    try {
      return await this.inner.setMemberState(conversationId, userId, patch);
    } finally {
      await this.invalidate([userDep(userId)]);
    }
  }

  async hideMessage(userId: string, message: MessageRecord): Promise<void> {
    try {
      await this.inner.hideMessage(userId, message);
    } finally {
      await this.invalidate([userDep(userId)]);
    }
  }

  async advanceMarker(
    conversationId: string,
    userId: string,
    kind: "read" | "delivered",
    seq: number,
    at: string,
  ): Promise<number | null> {
    const moved = await this.inner.advanceMarker(conversationId, userId, kind, seq, at);
    // Only the read marker shows (as unreadCount); a marker that did not move changed nothing.
    if (kind === "read" && moved !== null) await this.invalidate([userDep(userId)]);
    return moved;
  }

  async beginErasure(...a: Parameters<Store["beginErasure"]>) {
    try {
      return await this.inner.beginErasure(...a);
    } finally {
      await this.invalidate([userDep(a[0])]);
    }
  }

  async finishErasure(...a: Parameters<Store["finishErasure"]>) {
    try {
      return await this.inner.finishErasure(...a);
    } finally {
      // Rare, and touches any conversation the user ever wrote or reacted in.
      await this.invalidate([EPOCH]);
    }
  }

  async sweepRetention(...a: Parameters<Store["sweepRetention"]>) {
    let batch: Awaited<ReturnType<Store["sweepRetention"]>> | undefined;
    try {
      return batch = await this.inner.sweepRetention(...a);
    } finally {
      // Sweeps run every few minutes over every conversation with retention: most remove nothing.
      if (!batch || batch.messages > 0 || batch.events > 0) {
        await this.invalidate([conversationDep(a[0])]);
      }
    }
  }

  ping(...a: Parameters<Store["ping"]>) {
    return this.inner.ping(...a);
  }

  close(...a: Parameters<Store["close"]>) {
    return this.inner.close(...a);
  }

  createUser(...a: Parameters<Store["createUser"]>) {
    return this.inner.createUser(...a);
  }

  getUser(...a: Parameters<Store["getUser"]>) {
    return this.inner.getUser(...a);
  }

  getUsers(...a: Parameters<Store["getUsers"]>) {
    return this.inner.getUsers(...a);
  }

  getUserByUsername(...a: Parameters<Store["getUserByUsername"]>) {
    return this.inner.getUserByUsername(...a);
  }

  getPasswordHash(...a: Parameters<Store["getPasswordHash"]>) {
    return this.inner.getPasswordHash(...a);
  }

  setPasswordHash(...a: Parameters<Store["setPasswordHash"]>) {
    return this.inner.setPasswordHash(...a);
  }

  searchUsers(...a: Parameters<Store["searchUsers"]>) {
    return this.inner.searchUsers(...a);
  }

  updateUser(...a: Parameters<Store["updateUser"]>) {
    return this.inner.updateUser(...a);
  }

  createSession(...a: Parameters<Store["createSession"]>) {
    return this.inner.createSession(...a);
  }

  getSession(...a: Parameters<Store["getSession"]>) {
    return this.inner.getSession(...a);
  }

  listSessions(...a: Parameters<Store["listSessions"]>) {
    return this.inner.listSessions(...a);
  }

  touchSession(...a: Parameters<Store["touchSession"]>) {
    return this.inner.touchSession(...a);
  }

  revokeSession(...a: Parameters<Store["revokeSession"]>) {
    return this.inner.revokeSession(...a);
  }

  revokeUserSessions(...a: Parameters<Store["revokeUserSessions"]>) {
    return this.inner.revokeUserSessions(...a);
  }

  rotateRefreshToken(...a: Parameters<Store["rotateRefreshToken"]>) {
    return this.inner.rotateRefreshToken(...a);
  }

  ensureUserKey(...a: Parameters<Store["ensureUserKey"]>) {
    return this.inner.ensureUserKey(...a);
  }

  getUserKey(...a: Parameters<Store["getUserKey"]>) {
    return this.inner.getUserKey(...a);
  }

  userKeysNotWrappedBy(...a: Parameters<Store["userKeysNotWrappedBy"]>) {
    return this.inner.userKeysNotWrappedBy(...a);
  }

  rewrapUserKey(...a: Parameters<Store["rewrapUserKey"]>) {
    return this.inner.rewrapUserKey(...a);
  }

  getConversation(...a: Parameters<Store["getConversation"]>) {
    return this.inner.getConversation(...a);
  }

  getMember(...a: Parameters<Store["getMember"]>) {
    return this.inner.getMember(...a);
  }

  listMembers(...a: Parameters<Store["listMembers"]>) {
    return this.inner.listMembers(...a);
  }

  memberIds(...a: Parameters<Store["memberIds"]>) {
    return this.inner.memberIds(...a);
  }

  conversationHeads(...a: Parameters<Store["conversationHeads"]>) {
    return this.inner.conversationHeads(...a);
  }

  contactIds(...a: Parameters<Store["contactIds"]>) {
    return this.inner.contactIds(...a);
  }

  sharesConversation(...a: Parameters<Store["sharesConversation"]>) {
    return this.inner.sharesConversation(...a);
  }

  listConversations(...a: Parameters<Store["listConversations"]>) {
    return this.inner.listConversations(...a);
  }

  conversationItem(...a: Parameters<Store["conversationItem"]>) {
    return this.inner.conversationItem(...a);
  }

  getMessage(...a: Parameters<Store["getMessage"]>) {
    return this.inner.getMessage(...a);
  }

  getMessageByClientId(...a: Parameters<Store["getMessageByClientId"]>) {
    return this.inner.getMessageByClientId(...a);
  }

  listMessages(...a: Parameters<Store["listMessages"]>) {
    return this.inner.listMessages(...a);
  }

  listEvents(...a: Parameters<Store["listEvents"]>) {
    return this.inner.listEvents(...a);
  }

  reactions(...a: Parameters<Store["reactions"]>) {
    return this.inner.reactions(...a);
  }

  hiddenMessageIds(...a: Parameters<Store["hiddenMessageIds"]>) {
    return this.inner.hiddenMessageIds(...a);
  }

  receipts(...a: Parameters<Store["receipts"]>) {
    return this.inner.receipts(...a);
  }

  createMedia(...a: Parameters<Store["createMedia"]>) {
    return this.inner.createMedia(...a);
  }

  getMedia(...a: Parameters<Store["getMedia"]>) {
    return this.inner.getMedia(...a);
  }

  getMediaMany(...a: Parameters<Store["getMediaMany"]>) {
    return this.inner.getMediaMany(...a);
  }

  updateMedia(...a: Parameters<Store["updateMedia"]>) {
    return this.inner.updateMedia(...a);
  }

  claimMedia(...a: Parameters<Store["claimMedia"]>) {
    return this.inner.claimMedia(...a);
  }

  listMediaByStatus(...a: Parameters<Store["listMediaByStatus"]>) {
    return this.inner.listMediaByStatus(...a);
  }

  deleteMedia(...a: Parameters<Store["deleteMedia"]>) {
    return this.inner.deleteMedia(...a);
  }

  canSeeMedia(...a: Parameters<Store["canSeeMedia"]>) {
    return this.inner.canSeeMedia(...a);
  }

  isMediaReferenced(...a: Parameters<Store["isMediaReferenced"]>) {
    return this.inner.isMediaReferenced(...a);
  }

  appendAudit(...a: Parameters<Store["appendAudit"]>) {
    return this.inner.appendAudit(...a);
  }

  listAudit(...a: Parameters<Store["listAudit"]>) {
    return this.inner.listAudit(...a);
  }

  allSessions(...a: Parameters<Store["allSessions"]>) {
    return this.inner.allSessions(...a);
  }

  listSentMessages(...a: Parameters<Store["listSentMessages"]>) {
    return this.inner.listSentMessages(...a);
  }

  listUserReactions(...a: Parameters<Store["listUserReactions"]>) {
    return this.inner.listUserReactions(...a);
  }

  listMediaByOwner(...a: Parameters<Store["listMediaByOwner"]>) {
    return this.inner.listMediaByOwner(...a);
  }

  pendingErasures(...a: Parameters<Store["pendingErasures"]>) {
    return this.inner.pendingErasures(...a);
  }

  scrub(...a: Parameters<Store["scrub"]>) {
    return this.inner.scrub(...a);
  }

  retentionConversations(...a: Parameters<Store["retentionConversations"]>) {
    return this.inner.retentionConversations(...a);
  }

  createExport(...a: Parameters<Store["createExport"]>) {
    return this.inner.createExport(...a);
  }

  getExport(...a: Parameters<Store["getExport"]>) {
    return this.inner.getExport(...a);
  }

  updateExport(...a: Parameters<Store["updateExport"]>) {
    return this.inner.updateExport(...a);
  }

  listExports(...a: Parameters<Store["listExports"]>) {
    return this.inner.listExports(...a);
  }

  dueExports(...a: Parameters<Store["dueExports"]>) {
    return this.inner.dueExports(...a);
  }

  deleteExport(...a: Parameters<Store["deleteExport"]>) {
    return this.inner.deleteExport(...a);
  }

  markActive(...a: Parameters<Store["markActive"]>) {
    return this.inner.markActive(...a);
  }

  countActive(...a: Parameters<Store["countActive"]>) {
    return this.inner.countActive(...a);
  }

  addDailyCounts(...a: Parameters<Store["addDailyCounts"]>) {
    return this.inner.addDailyCounts(...a);
  }

  dailyCounts(...a: Parameters<Store["dailyCounts"]>) {
    return this.inner.dailyCounts(...a);
  }
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
